import { afterEach, describe, expect, it } from 'vitest';
import { TOKENS, type TopicRegistry } from '../../core/index.ts';
import { eventually, startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';
import { hasProgram, runProgram } from '../helpers/programs.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const COMPACTED = [
  { name: 'cleanup.policy', value: 'compact' },
  { name: 'segment.bytes', value: '1024' },
  { name: 'min.cleanable.dirty.ratio', value: '0.01' },
  { name: 'delete.retention.ms', value: '0' },
];

async function start(): Promise<KafkaTestBroker> {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  const kafka = await startKafka({ dataDir: dir.path, topics: { logCleanerBackoffMs: 100 } });
  cleanups.push(() => kafka.stop());
  return kafka;
}

/** The offset the cleaner has reached in a partition: only to know when to look, the checks go through clients. */
function cleanedTo(kafka: KafkaTestBroker, topic: string): number {
  const log = kafka.broker.get<TopicRegistry>(TOKENS.TopicRegistry).log(topic, 0) as unknown as { cleanedTo: number };
  return log.cleanedTo;
}

describe('Kafka log compaction (cleanup.policy=compact)', () => {
  it('keeps the latest value per key at its offset, drops tombstoned keys, and kafkajs consumes through the gaps', async () => {
    const kafka = await start();
    const client = kafka.client();
    const admin = client.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'changelog', numPartitions: 1, configEntries: COMPACTED }] });
    const producer = client.producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const produced = new Map<number, [string, string | null]>();
    const send = async (key: string, value: string | null) => {
      const [meta] = await producer.send({ topic: 'changelog', messages: [{ key, value }] });
      produced.set(Number(meta!.baseOffset), [key, value]);
    };
    for (let i = 0; i < 200; i++) await send(`k${i % 10}`, `v${i}-${'x'.repeat(60)}`);
    await send('k3', null);
    for (let i = 0; i < 30; i++) await send(`k${i % 3}`, `w${i}-${'x'.repeat(60)}`);
    const tombstoneOffset = [...produced].find(([, [, v]]) => v === null)![0];
    // The tombstone is kept by the pass that first sees it (with its horizon), then dropped by a later one.
    await eventually(() => cleanedTo(kafka, 'changelog') > tombstoneOffset, 15_000, 'the cleaner to pass the tombstone');

    const consumer = client.consumer({ groupId: 'compacted-reader' });
    await consumer.connect();
    cleanups.push(() => consumer.disconnect());
    await consumer.subscribe({ topic: 'changelog', fromBeginning: true });
    const seen: Array<[number, string, string | null]> = [];
    const high = Number((await admin.fetchTopicOffsets('changelog'))[0]!.high);
    await consumer.run({ eachMessage: async ({ message }) => void seen.push([Number(message.offset), message.key!.toString(), message.value?.toString() ?? null]) });
    await eventually(() => seen.length > 0 && seen[seen.length - 1]![0] === high - 1, 15_000, 'the consumer to reach the end');

    for (const [offset, key, value] of seen) expect(produced.get(offset)).toEqual([key, value]);
    expect(seen.length).toBeLessThan(60);
    const latest = new Map<string, string | null>();
    for (const [, [key, value]] of [...produced].sort(([a], [b]) => a - b)) latest.set(key, value);
    const state = new Map<string, string | null>();
    for (const [, key, value] of seen) state.set(key, value);
    expect(state.get('k3') ?? null).toBeNull();
    for (const [key, value] of latest) if (value !== null) expect(state.get(key)).toBe(value);
    const cleanedPart = seen.filter(([offset]) => offset < cleanedTo(kafka, 'changelog'));
    expect(new Set(cleanedPart.map(([, key]) => key)).size).toBe(cleanedPart.length);
  });

  it('refuses a record without a key with INVALID_RECORD, and describes the compaction configs', async () => {
    const kafka = await start();
    const client = kafka.client({ retry: { retries: 0 } });
    const admin = client.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'keyed-only', numPartitions: 1, configEntries: COMPACTED }] });
    const producer = client.producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    await expect(producer.send({ topic: 'keyed-only', messages: [{ value: 'no key' }] })).rejects.toMatchObject({ type: 'INVALID_RECORD' });
    await producer.send({ topic: 'keyed-only', messages: [{ key: 'k', value: 'keyed' }] });
    const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: 'keyed-only' }] });
    const configs = Object.fromEntries(resources[0]!.configEntries.map((c) => [c.configName, c.configValue]));
    expect(configs).toMatchObject({
      'cleanup.policy': 'compact',
      'min.cleanable.dirty.ratio': '0.01',
      'delete.retention.ms': '0',
      'min.compaction.lag.ms': '0',
      'max.compaction.lag.ms': '9223372036854775807',
    });
  });

  it('never lets an open transaction\'s record supersede a key, and removes an aborted transaction\'s records (kafkajs)', async () => {
    const kafka = await start();
    const client = kafka.client();
    const admin = client.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'txn-changelog', numPartitions: 1, configEntries: COMPACTED }] });
    const producer = client.producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const transactional = client.producer({ transactionalId: 'compacting-txn', idempotent: true, maxInFlightRequests: 1 });
    await transactional.connect();
    cleanups.push(() => transactional.disconnect());
    const fill = async (prefix: string, count: number) => {
      for (let i = 0; i < count; i++) await producer.send({ topic: 'txn-changelog', messages: [{ key: `${prefix}${i}`, value: 'x'.repeat(80) }] });
    };
    await producer.send({ topic: 'txn-changelog', messages: [{ key: 'k0', value: 'committed' }] });
    await fill('before', 30);
    const transaction = await transactional.transaction();
    const [sent] = await transaction.send({ topic: 'txn-changelog', messages: [{ key: 'k0', value: 'aborted' }] });
    const abortedOffset = Number(sent!.baseOffset);
    await fill('during', 30);
    // The segments before the transaction are cleaned; the transaction's segment and later ones wait for it.
    await eventually(() => cleanedTo(kafka, 'txn-changelog') > 0, 15_000, 'the cleaner to clean below the open transaction');
    await transaction.abort();
    await fill('after', 30);
    const high = Number((await admin.fetchTopicOffsets('txn-changelog'))[0]!.high);
    await eventually(() => cleanedTo(kafka, 'txn-changelog') > abortedOffset, 15_000, 'the cleaner to pass the aborted transaction');

    for (const readUncommitted of [true, false]) {
      const consumer = client.consumer({ groupId: `txn-reader-${readUncommitted}`, readUncommitted });
      await consumer.connect();
      cleanups.push(() => consumer.disconnect());
      await consumer.subscribe({ topic: 'txn-changelog', fromBeginning: true });
      const seen: Array<[number, string, string]> = [];
      let last = -1;
      await consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) seen.push([Number(m.offset), m.key!.toString(), m.value!.toString()]);
          last = Number(batch.lastOffset());
        },
      });
      await eventually(() => last >= high - 1, 15_000, 'the consumer to reach the end');
      await consumer.stop();
      expect(seen.filter(([, key]) => key === 'k0')).toEqual([[0, 'k0', 'committed']]);
      expect(seen.some(([offset]) => offset === abortedOffset)).toBe(false);
    }
  });

  it.skipIf(!hasProgram('kcat', 'the kcat compaction test'))('kcat: keys and tombstones produced with -K -Z read back compacted from the beginning', async () => {
    const kafka = await start();
    const admin = kafka.client().admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'kcat-compacted', numPartitions: 1, configEntries: COMPACTED }] });
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) lines.push(`user${i % 20}|profile-${i}-${'y'.repeat(40)}`);
    lines.push('user7|');
    for (let i = 0; i < 40; i++) lines.push(`user${i % 2}|final-${i}-${'y'.repeat(40)}`);
    const bootstrap = kafka.brokers[0]!;
    await runProgram('kcat', ['-P', '-b', bootstrap, '-t', 'kcat-compacted', '-K', '|', '-Z', '-X', 'linger.ms=0', '-X', 'batch.num.messages=1'], { input: `${lines.join('\n')}\n` });
    const read = async () =>
      (await runProgram('kcat', ['-C', '-b', bootstrap, '-t', 'kcat-compacted', '-o', 'beginning', '-e', '-Z', '-f', '%o %k %s\\n'])).trim().split('\n').map((line) => line.split(' ') as [string, string, string]);
    let records = await read();
    // The pass that first meets the tombstone keeps it (setting its delete horizon); a later pass drops it.
    await eventually(async () => !(records = await read()).some(([, key]) => key === 'user7'), 15_000, 'the tombstone to be dropped');
    expect(records.length).toBeLessThan(80);
    for (const [offset, key, value] of records) {
      const [producedKey, producedValue] = lines[Number(offset)]!.split('|');
      expect([key, value]).toEqual([producedKey, producedValue === '' ? 'NULL' : producedValue]);
    }
    const keys = new Map(records.map(([, key, value]) => [key, value]));
    expect(keys.has('user7')).toBe(false);
    expect(keys.get('user5')).toBe(lines[285]!.split('|')[1]);
    expect(keys.get('user1')).toBe(lines[340]!.split('|')[1]);
  });
});
