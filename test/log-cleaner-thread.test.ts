import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchField, Compression, crc32c, createRootLogger, defaultCompactionConfig, defaultLogConfig, encodeRecordBatch, SegmentedStorageEngine, SingleNodeReplicator, type PartitionLog } from '../core/index.ts';
import { ManualClock } from '../core/testing/index.ts';
import { MemorySegmentStore } from '../plugins/storage-memory/memory-segment-store.ts';

/** Everything a log holds from its start, as stored bytes. */
async function contents(log: PartitionLog): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let offset = log.logStartOffset; offset < log.logEndOffset; ) {
    const { records } = await log.read(offset, 1 << 20, log.logEndOffset);
    if (records.length === 0) break;
    parts.push(Buffer.from(records));
    let pos = 0;
    for (; pos < records.length; pos += 12 + records.readInt32BE(pos + 8)) offset = Number(records.readBigInt64BE(pos)) + records.readInt32BE(pos + 23) + 1;
  }
  return Buffer.concat(parts);
}

const record = fc.record({
  key: fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), { freq: 8 }),
  value: fc.option(fc.string({ maxLength: 60 }), { freq: 6 }),
});

describe('the log cleaner thread', () => {
  it('cleans exactly as a pass on the event loop does, over tombstones, keyless records and several passes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(record, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 3 }), async (batches, passes) => {
        const clock = new ManualClock();
        const logs = await Promise.all(
          [true, false].map(async (cleanerThread) => {
            const engine = new SegmentedStorageEngine(new MemorySegmentStore(), new SingleNodeReplicator(), clock, createRootLogger('silent'));
            engine.cleanerThread = cleanerThread;
            await engine.open();
            const log = await engine.openLog({ topic: 't', partition: 0 }, { ...defaultLogConfig, flush: { kind: 'never' }, segmentBytes: 1024, cleanupPolicy: 'compact', compaction: { ...defaultCompactionConfig, deleteRetentionMs: 1_000 } });
            return { engine, log };
          }),
        );
        try {
          for (const records of batches) {
            const batch = encodeRecordBatch({
              timestamp: clock.now(),
              records: records.map((r) => ({ key: r.key === null ? null : Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) })),
            });
            for (const { log } of logs) await log.append(Buffer.from(batch), { acks: 'leader' });
            clock.advance(100);
          }
          for (let pass = 0; pass < passes; pass++) {
            for (const { log } of logs) {
              await log.roll();
              await log.compact(clock.now());
            }
            clock.advance(2_000);
          }
          const [threaded, onLoop] = await Promise.all(logs.map(({ log }) => contents(log)));
          expect(threaded!.equals(onLoop!)).toBe(true);
        } finally {
          for (const { engine } of logs) await engine.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('a cleaning pass over a batch that does not decompress', () => {
  it.each([true, false])('fails the pass (CORRUPT_RECORD) with jobs in flight, never an unhandled rejection, and the log reads as before (cleaner thread: %s)', async (cleanerThread) => {
    const clock = new ManualClock();
    const engine = new SegmentedStorageEngine(new MemorySegmentStore(), new SingleNodeReplicator(), clock, createRootLogger('silent'));
    engine.cleanerThread = cleanerThread;
    await engine.open();
    const log = await engine.openLog({ topic: 't', partition: 0 }, { ...defaultLogConfig, flush: { kind: 'never' }, segmentBytes: 4 << 20, cleanupPolicy: 'compact' });
    const value = Buffer.alloc(1000, 'v');
    const good = async (count: number) => {
      for (let i = 0; i < count; i++) await log.append(encodeRecordBatch({ timestamp: clock.now(), records: [{ key: Buffer.from(`k${i % 50}`), value }] }));
    };
    // Jobs' worth of good batches on both sides of a gzip batch whose compressed bytes are not gzip (its CRC is right).
    await good(1_500);
    const bad = encodeRecordBatch({ timestamp: clock.now(), records: [{ key: Buffer.from('k0'), value }] });
    bad.writeInt16BE(bad.readInt16BE(BatchField.attributes) | Compression.gzip, BatchField.attributes);
    bad.fill(0x5a, BatchField.records);
    bad.writeUInt32BE(crc32c(bad, BatchField.attributes, bad.length), BatchField.crc);
    await log.append(bad, { acks: 'leader' });
    await good(2_500);
    await log.roll();
    const before = await contents(log);
    await expect(log.compact()).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
    expect((await contents(log)).equals(before)).toBe(true);
    await engine.close();
  });
});

describe('log.cleaner.io.max.bytes.per.second', () => {
  it('holds a pass to the bytes per second it may read and write, and cleans the same', async () => {
    const clock = new ManualClock();
    const limit = 8 * 1024 * 1024;
    const results = [];
    for (const ioLimit of [limit, 0]) {
      const engine = new SegmentedStorageEngine(new MemorySegmentStore(), new SingleNodeReplicator(), clock, createRootLogger('silent'));
      engine.cleanerIoMaxBytesPerSecond = ioLimit;
      await engine.open();
      const log = await engine.openLog({ topic: 't', partition: 0 }, { ...defaultLogConfig, flush: { kind: 'never' }, segmentBytes: 1 << 20, cleanupPolicy: 'compact' });
      const value = Buffer.alloc(1000, 'v');
      for (let i = 0; i < 4_000; i++) await log.append(encodeRecordBatch({ timestamp: clock.now(), records: [{ key: Buffer.from(`k${i % 50}`), value }] }));
      await log.roll();
      const started = performance.now();
      const stats = (await log.compact())!;
      const seconds = (performance.now() - started) / 1000;
      results.push({ seconds, stats, contents: await contents(log) });
      await engine.close();
    }
    const [limited, unlimited] = results;
    // It reads the dirty log twice (mapping, then rewriting) and writes what stays: no faster than the limit allows.
    const io = limited!.stats.bytesRead + limited!.stats.bytesWritten;
    expect(io).toBeGreaterThan(limit);
    expect(limited!.seconds).toBeGreaterThan((io / limit) * 0.9);
    expect(limited!.contents.equals(unlimited!.contents)).toBe(true);
  });
});
