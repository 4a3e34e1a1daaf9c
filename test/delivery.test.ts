import { afterEach, describe, expect, it } from 'vitest';
import {
  AckQueue,
  AckStateStore,
  createRootLogger,
  defaultLogConfig,
  encodeRecordBatch,
  SegmentedStorageEngine,
  SingleNodeReplicator,
  type PartitionLog,
  type StorageEngine,
} from '../core/index.ts';
import { ManualClock } from '../core/testing/index.ts';
import { FsSegmentStore } from '../plugins/storage-fs/index.ts';
import { MemorySegmentStore } from '../plugins/storage-memory/index.ts';
import { tempDir } from './helpers/temp-dir.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(engine: StorageEngine = new SegmentedStorageEngine(new MemorySegmentStore(), new SingleNodeReplicator(), new ManualClock(), createRootLogger('silent')), segmentBytes = 4096) {
  const clock = new ManualClock();
  await engine.open();
  const log = await engine.openLog({ topic: 'queue', partition: 0 }, { ...defaultLogConfig, flush: { kind: 'never' }, segmentBytes });
  const store = await AckStateStore.open(engine, clock, createRootLogger('silent'));
  const queue = await AckQueue.open('q', log, store);
  return { engine, log, store, queue, clock };
}

async function publish(log: PartitionLog, ...values: string[]): Promise<void> {
  await log.append(encodeRecordBatch({ records: values.map((v) => ({ value: Buffer.from(v) })) }));
}

async function takeAll(queue: AckQueue, count: number) {
  const out = [];
  while (out.length < count) {
    const message = queue.take();
    if (message) out.push(message);
    else await queue.available();
  }
  return out;
}

describe('AckQueue', () => {
  it('delivers in order, requeues ahead of fresh messages with one more attempt, and counts ready and in flight', async () => {
    const { log, queue } = await setup();
    await publish(log, 'a', 'b', 'c');
    await publish(log, 'd');
    expect(queue.readyCount).toBe(4);
    const [a, b] = await takeAll(queue, 2);
    expect([a!.value!.toString(), b!.value!.toString(), a!.attempts]).toEqual(['a', 'b', 0]);
    expect(queue.readyCount).toBe(2);
    expect(queue.inFlightCount).toBe(2);
    queue.requeue(b!.offset);
    const [again] = await takeAll(queue, 1);
    expect(again!.value!.toString()).toBe('b');
    expect(again!.attempts).toBe(1);
    queue.ack(a!.offset);
    queue.ack(again!.offset);
    const rest = await takeAll(queue, 2);
    expect(rest.map((m) => m.value!.toString())).toEqual(['c', 'd']);
    expect(queue.readyCount).toBe(0);
  });

  it('expires in-flight deadlines, drops and purges', async () => {
    const { log, queue } = await setup();
    await publish(log, 'a', 'b', 'c', 'd', 'e');
    const [a] = await takeAll(queue, 1);
    queue.take(1000);
    expect(queue.nextDeadline).toBe(1000);
    expect(queue.expireInFlight(999)).toHaveLength(0);
    expect(queue.expireInFlight(1000).map((m) => m.value!.toString())).toEqual(['b']);
    const [b] = await takeAll(queue, 1);
    expect(b!.value!.toString()).toBe('b');
    queue.drop(b!);
    expect(queue.purge()).toBe(3);
    expect(queue.readyCount).toBe(0);
    expect(queue.inFlightCount).toBe(1);
    queue.ack(a!.offset);
    await publish(log, 'f');
    const [f] = await takeAll(queue, 1);
    expect(f!.value!.toString()).toBe('f');
  });

  it('keeps ack state across a restart: acked messages stay gone, unacked ones come back marked redelivered', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const make = () => new SegmentedStorageEngine(new FsSegmentStore(dir.path), new SingleNodeReplicator(), new ManualClock(), createRootLogger('silent'));
    const first = await setup(make());
    await publish(first.log, '0', '1', '2', '3', '4', '5');
    const taken = await takeAll(first.queue, 4);
    first.queue.ack(taken[0]!.offset);
    first.queue.ack(taken[2]!.offset);
    await first.store.close();
    await first.engine.close();

    const second = await setup(make());
    expect(second.queue.readyCount).toBe(4);
    const redelivered = await takeAll(second.queue, 4);
    expect(redelivered.map((m) => [m.value!.toString(), m.attempts])).toEqual([
      ['1', 1],
      ['3', 1],
      ['4', 0],
      ['5', 0],
    ]);
    await second.store.close();
    await second.engine.close();
  });

  it('reclaims fully acked segments, so the log does not grow with what consumers finished', async () => {
    const { log, queue } = await setup();
    for (let i = 0; i < 400; i++) await publish(log, 'x'.repeat(100));
    const sizeBefore = log.size;
    for (const message of await takeAll(queue, 400)) queue.ack(message.offset);
    await new Promise((r) => setImmediate(r));
    expect(log.logStartOffset).toBeGreaterThan(0);
    expect(log.size).toBeLessThan(sizeBefore / 2);
  });

  it('keeps a queue whose consumer keeps up small on disk, though its segments are large', async () => {
    const { log, queue } = await setup(undefined, 1024 * 1024 * 1024);
    const body = 'x'.repeat(1000);
    let peak = 0;
    for (let i = 0; i < 20_000; i++) {
      await publish(log, body);
      for (const message of await takeAll(queue, 1)) queue.ack(message.offset);
      peak = Math.max(peak, log.size);
    }
    await new Promise((r) => setImmediate(r));
    // 20 MB went through one 1 GiB segment's worth of log; what is kept stays near the 4 MiB roll point.
    expect(peak).toBeLessThan(6 * 1024 * 1024);
    expect(log.size).toBeLessThan(6 * 1024 * 1024);
  });
});
