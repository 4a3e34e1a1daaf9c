import { afterEach, describe, expect, it } from 'vitest';
import {
  BrokerError,
  createBroker,
  decodeRecords,
  encodeRecordBatch,
  MetadataLog,
  RecordBatch,
  TOKENS,
  type Broker,
  type StorageEngine,
  type TopicEvent,
  type TopicRegistry,
} from '../core/index.ts';
import { fsStorage } from '../plugins/storage-fs/index.ts';
import { tempDir } from './helpers/temp-dir.ts';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

async function startOn(dataDir: string): Promise<Broker> {
  const broker = await createBroker({ plugins: [fsStorage()], config: { dataDir, logLevel: 'silent', topics: { partitions: 2 } } });
  return broker.start();
}

describe('topic registry on storage-fs', () => {
  it('keeps topics, partitions, configs and data across a restart', async () => {
    const dir = tempDir();
    dirs.push(dir);
    let broker = await startOn(dir.path);
    let topics = broker.get<TopicRegistry>(TOKENS.TopicRegistry);
    const events: string[] = [];
    topics.onChange((e: TopicEvent) => events.push(`${e.type}:${e.topic.name}`));
    const orders = await topics.create('orders', { config: { retentionMs: '60000', messageTimestampType: 'LogAppendTime' } });
    await topics.create('audit', { partitions: 1, attributes: { owner: 'test' } });
    await topics.create('gone');
    await topics.addPartitions('orders', 4);
    await topics.delete('gone');
    await topics.log('orders', 3)!.append(encodeRecordBatch({ records: [{ value: Buffer.from('kept') }] }));
    expect(events).toEqual(['created:orders', 'created:audit', 'created:gone', 'partitions:orders', 'deleted:gone']);
    expect((await topics.create('x', { validateOnly: true })).name).toBe('x');
    expect(topics.get('x')).toBeUndefined();
    await broker.stop();

    broker = await startOn(dir.path);
    topics = broker.get<TopicRegistry>(TOKENS.TopicRegistry);
    expect(topics.list().map((t) => [t.name, t.partitions]).sort()).toEqual([['audit', 1], ['orders', 4]]);
    const reloaded = topics.get('orders')!;
    expect(reloaded.id).toBe(orders.id);
    expect(reloaded.config).toEqual({ retentionMs: 60000, messageTimestampType: 'LogAppendTime' });
    expect(topics.get('audit')!.attributes).toEqual({ owner: 'test' });
    const { records } = await topics.log('orders', 3)!.read(0, 1000);
    expect(decodeRecords(records).map((r) => r.value!.toString())).toEqual(['kept']);
    expect(topics.log('gone', 0)).toBeUndefined();
    expect((await broker.get<StorageEngine>(TOKENS.StorageEngine).listLogs()).some((l) => l.topic === 'gone')).toBe(false);
    await broker.stop();
  });

  it('validates names, partition counts and configs', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const broker = await startOn(dir.path);
    const topics = broker.get<TopicRegistry>(TOKENS.TopicRegistry);
    const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (BrokerError.is(e) ? e.code : String(e)));
    expect(await code(topics.create(''))).toBe('INVALID_TOPIC');
    expect(await code(topics.create('..'))).toBe('INVALID_TOPIC');
    expect(await code(topics.create('__wharf_x'))).toBe('INVALID_TOPIC');
    expect(await code(topics.create('t', { partitions: 0 }))).toBe('INVALID_PARTITIONS');
    expect(await code(topics.create('t', { config: { retentionMs: 'soon' } }))).toBe('INVALID_TOPIC_CONFIG');
    expect(await code(topics.create('t', { config: { colour: 'red' } }))).toBe('INVALID_TOPIC_CONFIG');
    expect(await code(topics.create('t', { config: { segmentBytes: 10 } }))).toBe('INVALID_TOPIC_CONFIG');
    await topics.create('t');
    expect(await code(topics.create('t'))).toBe('TOPIC_EXISTS');
    expect(await code(topics.addPartitions('t', 1))).toBe('INVALID_PARTITIONS');
    expect(await code(topics.delete('nope'))).toBe('TOPIC_NOT_FOUND');
    await broker.stop();
  });
});

describe('MetadataLog', () => {
  it('compacts its log (latest record per key) and replays the same state', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const broker = await startOn(dir.path);
    const engine = broker.get<StorageEngine>(TOKENS.StorageEngine);
    const state = await MetadataLog.open<{ n: number }>(engine, 'compaction-test');
    for (let i = 0; i < 1200; i++) await state.put(`k${i % 10}`, { n: i });
    await state.delete('k0');
    await state.write([['a', { n: 1 }], ['k1', undefined]]);
    await state.compacting;
    const log = await engine.openLog({ topic: '__wharf_compaction-test', partition: 0 }, { segmentBytes: 16 << 20, segmentMs: 1e9, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 4096, flush: { kind: 'always' } });
    let stored = 0;
    for (let offset = 0; offset < log.logEndOffset; ) {
      const { records } = await log.read(offset, 1 << 20, log.logEndOffset);
      if (records.length === 0) break;
      for (let pos = 0; pos < records.length; ) {
        const batch = new RecordBatch(records, pos);
        stored += batch.recordCount;
        offset = batch.nextOffset;
        pos += batch.sizeInBytes;
      }
    }
    expect(log.logEndOffset).toBe(1203);
    expect(stored).toBeLessThan(200);
    const replayed = await MetadataLog.open<{ n: number }>(engine, 'compaction-test');
    expect(Object.fromEntries(replayed.entries())).toEqual(Object.fromEntries(state.entries()));
    expect(replayed.get("k9")).toEqual({ n: 1199 });
    expect(replayed.has('k0')).toBe(false);
    expect(replayed.size).toBe(9);
    await broker.stop();
  });
});
