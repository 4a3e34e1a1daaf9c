import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrokerError } from '../errors.ts';
import { BatchField, Compression, ControlType, type ControlTypeCode, LOG_OVERHEAD, RecordBatch, crc32c, decodeRecords, encodeRecordBatch, encodeTxnMarker, validateRecordBatch } from '../record/index.ts';
import { defaultCompactionConfig, defaultLogConfig, type LogConfig } from '../storage/log-config.ts';
import type { LogId, PartitionLog, StorageEngine } from '../storage/partition-log.ts';
import { ManualClock } from './manual-clock.ts';

export interface StorageHarness {
  engine: StorageEngine;
  /**
   * Opens the same underlying storage again. `clean: false` simulates a crash: the old engine is
   * abandoned without close. Only for engines whose data outlives the engine object.
   */
  reopen?(options: { clean: boolean }): Promise<StorageEngine>;
  cleanup(): Promise<void>;
}

export type StorageHarnessFactory = (clock: ManualClock) => Promise<StorageHarness>;

const ID: LogId = { topic: 'conformance', partition: 0 };

function batch(count: number, timestamp = 1_700_000_000_000, size = 10): Buffer {
  return encodeRecordBatch({
    timestamp,
    records: Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.alloc(size, i), timestamp: timestamp + i })),
  });
}

/** A client batch of an idempotent producer, as the Kafka plugin hands it to the log. */
function producerBatch(producerId: number, baseSequence: number, count = 1, timestamp = 1_700_000_000_000): Buffer {
  return encodeRecordBatch({ producerId, producerEpoch: 0, baseSequence, timestamp, records: Array.from({ length: count }, (_, i) => ({ value: Buffer.alloc(30, i) })) });
}

/** `count` records `step` ms apart from `first`, their records section gzipped as a producer would send it. */
function gzippedBatch(count: number, first: number, step: number): Buffer {
  const plain = encodeRecordBatch({ records: Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`r${i}`), timestamp: first + i * step })) });
  const batch = Buffer.concat([plain.subarray(0, BatchField.records), gzipSync(plain.subarray(BatchField.records))]);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BatchField.batchLength);
  batch.writeInt16BE(batch.readInt16BE(BatchField.attributes) | Compression.gzip, BatchField.attributes);
  batch.writeUInt32BE(crc32c(batch, BatchField.attributes, batch.length), BatchField.crc);
  return batch;
}

function config(overrides: Partial<LogConfig> = {}): LogConfig {
  return { ...defaultLogConfig, flush: { kind: 'never' }, ...overrides };
}

/** One batch of keyed records (null key: keyless; null value: a tombstone). */
function keyed(entries: ReadonlyArray<readonly [string | null, string | null]>, timestamp = 1_700_000_000_000): Buffer {
  return encodeRecordBatch({
    timestamp,
    records: entries.map(([key, value]) => ({ key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value) })),
  });
}

/** Every record from the log start to its end, as [offset, key, value], reading as a consumer does. */
async function readAll(log: PartitionLog): Promise<Array<[number, string | null, string | null]>> {
  const out: Array<[number, string | null, string | null]> = [];
  for (let offset = log.logStartOffset; offset < log.highWatermark; ) {
    const { records } = await log.read(offset, 1 << 20);
    if (records.length === 0) break;
    for (const b of batchesOf(records)) {
      for (const r of decodeRecords(b.bytes)) if (r.offset >= offset) out.push([r.offset, r.key?.toString() ?? null, r.value?.toString() ?? null]);
      offset = b.nextOffset;
    }
  }
  return out;
}

/** Splits concatenated batches into views. */
function batchesOf(bytes: Buffer): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const batch = new RecordBatch(bytes, pos);
    out.push(batch);
    pos += batch.sizeInBytes;
  }
  return out;
}

/**
 * The storage conformance suite: every StorageEngine, and every SegmentStore through
 * SegmentedStorageEngine, runs it with a fresh instance per test.
 */
export function runStorageConformance(name: string, factory: StorageHarnessFactory): void {
  describe(`storage conformance: ${name}`, () => {
    let clock: ManualClock;
    let harness: StorageHarness;
    let engine: StorageEngine;

    beforeEach(async () => {
      clock = new ManualClock();
      harness = await factory(clock);
      engine = harness.engine;
      await engine.open();
    });

    afterEach(async () => {
      await harness.cleanup();
    });

    const open = (overrides: Partial<LogConfig> = {}): Promise<PartitionLog> => engine.openLog(ID, config(overrides));

    it('assigns contiguous offsets across appends of different sizes', async () => {
      const log = await open();
      const results = [];
      for (const count of [1, 5, 2, 10]) results.push(await log.append(batch(count)));
      expect(results.map((r) => [r.baseOffset, r.lastOffset])).toEqual([[0, 0], [1, 5], [6, 7], [8, 17]]);
      expect(log.logEndOffset).toBe(18);
      expect(log.highWatermark).toBe(18);
      expect(log.logStartOffset).toBe(0);
    });

    it('reads back byte-identical batches with patched base offsets and valid CRCs', async () => {
      const log = await open();
      const appended = [batch(3), batch(1), batch(4)];
      for (const b of appended) await log.append(b);
      const { records, highWatermark } = await log.read(0, 1 << 20);
      expect(highWatermark).toBe(8);
      expect(records.equals(Buffer.concat(appended))).toBe(true);
      const batches = batchesOf(records);
      expect(batches.map((b) => b.baseOffset)).toEqual([0, 3, 4]);
      for (const b of batches) expect(validateRecordBatch(b.bytes)).toBe(b.sizeInBytes);
    });

    it('returns the batch containing a mid-batch offset', async () => {
      const log = await open();
      await log.append(batch(5));
      await log.append(batch(5));
      const { records } = await log.read(7, 1 << 20);
      expect(batchesOf(records).map((b) => b.baseOffset)).toEqual([5]);
      expect(decodeRecords(records).map((r) => r.offset)).toEqual([5, 6, 7, 8, 9]);
    });

    it('honours maxBytes but always returns at least one whole batch', async () => {
      const log = await open();
      const size = batch(2).length;
      for (let i = 0; i < 5; i++) await log.append(batch(2));
      expect(batchesOf((await log.read(0, 1)).records)).toHaveLength(1);
      expect(batchesOf((await log.read(0, 2 * size)).records)).toHaveLength(2);
      expect(batchesOf((await log.read(0, 2 * size + size - 1)).records)).toHaveLength(2);
      expect((await log.read(10, 1 << 20)).records.length).toBe(0);
    });

    it('serves batches from many sparse-index intervals and segments', async () => {
      const log = await open({ indexIntervalBytes: 256, segmentBytes: 8 * 1024 });
      const expected: number[] = [];
      for (let i = 0; i < 200; i++) {
        const { baseOffset } = await log.append(batch(1 + (i % 4), 1_700_000_000_000 + i * 10, 20 + (i % 50)));
        expected.push(baseOffset);
      }
      let offset = 0;
      const seen: number[] = [];
      while (offset < log.logEndOffset) {
        const batches = batchesOf((await log.read(offset, 700)).records);
        expect(batches.length).toBeGreaterThan(0);
        for (const b of batches) seen.push(b.baseOffset);
        offset = batches[batches.length - 1]!.nextOffset;
      }
      expect(seen).toEqual(expected);
      for (const target of [0, 1, 77, 250, log.logEndOffset - 1]) {
        const first = batchesOf((await log.read(target, 1)).records)[0]!;
        expect(first.baseOffset <= target && target <= first.lastOffset).toBe(true);
      }
    });

    it('reads whole batches from the one holding the offset, within maxBytes unless one batch exceeds it, for any batch sizes', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3000 })), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 12 }),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 9000 })), { minLength: 1, maxLength: 8 }),
          async (appends, reads) => {
            const log = await engine.openLog({ topic: 'sizes', partition: run++ }, config({ indexIntervalBytes: 512, segmentBytes: 16 * 1024 }));
            const stored: Buffer[] = [];
            for (const batches of appends) {
              const appended = Buffer.concat(batches.map(([count, size]) => batch(count, 1_700_000_000_000, size)));
              await log.append(appended); // assigns offsets in place
              stored.push(...batchesOf(Buffer.from(appended)).map((b) => b.bytes));
            }
            for (const [at, maxBytes] of reads) {
              const offset = at % log.logEndOffset;
              const { records } = await log.read(offset, maxBytes);
              const got = batchesOf(records);
              expect(got.length).toBeGreaterThan(0);
              expect(got[0]!.baseOffset <= offset && offset <= got[0]!.lastOffset).toBe(true);
              if (got.length > 1) expect(records.length).toBeLessThanOrEqual(maxBytes);
              const firstIndex = stored.findIndex((b) => new RecordBatch(b, 0).baseOffset === got[0]!.baseOffset);
              expect(firstIndex).toBeGreaterThanOrEqual(0);
              expect(records.equals(Buffer.concat(stored.slice(firstIndex, firstIndex + got.length)))).toBe(true);
            }
          },
        ),
        { numRuns: 40 },
      );
    });

    it('rejects offsets outside the log and answers empty at the end', async () => {
      const log = await open();
      await log.append(batch(2));
      expect((await log.read(2, 100)).records.length).toBe(0);
      await expect(log.read(3, 100)).rejects.toSatisfy((e) => BrokerError.is(e, 'OFFSET_OUT_OF_RANGE'));
      await expect(log.read(-1, 100)).rejects.toSatisfy((e) => BrokerError.is(e, 'OFFSET_OUT_OF_RANGE'));
    });

    it('finds offsets by timestamp through the time index', async () => {
      const log = await open({ indexIntervalBytes: 128, segmentBytes: 4096 });
      for (let i = 0; i < 100; i++) await log.append(batch(3, 1_000_000 + i * 100));
      expect(await log.offsetForTime(0)).toEqual({ offset: 0, timestamp: 1_000_000 });
      expect(await log.offsetForTime(1_000_000 + 50 * 100 + 1)).toEqual({ offset: 151, timestamp: 1_005_001 });
      expect(await log.offsetForTime(1_000_000 + 50 * 100 + 3)).toEqual({ offset: 153, timestamp: 1_005_100 });
      expect(await log.offsetForTime(1_000_000 + 99 * 100 + 2)).toEqual({ offset: 299, timestamp: 1_009_902 });
      expect(await log.offsetForTime(2_000_000)).toBeUndefined();
    });

    it('finds offsets by timestamp inside compressed batches, never below the log start offset', async () => {
      const log = await open({ indexIntervalBytes: 64 });
      for (let b = 0; b < 3; b++) await log.append(gzippedBatch(5, 1_000_000 + b * 1000, 100));
      expect(await log.offsetForTime(1_000_250)).toEqual({ offset: 3, timestamp: 1_000_300 });
      expect(await log.offsetForTime(1_001_001)).toEqual({ offset: 6, timestamp: 1_001_100 });
      expect(await log.offsetForTime(1_002_400)).toEqual({ offset: 14, timestamp: 1_002_400 });
      expect(await log.offsetForTime(1_002_401)).toBeUndefined();
      await log.deleteBefore(7);
      expect(await log.offsetForTime(0)).toEqual({ offset: 7, timestamp: 1_001_200 });
    });

    it('expires segments whose batches carry no timestamp by when they were last written', async () => {
      const log = await open({ segmentBytes: 1024, retentionMs: 60_000 });
      const untimed = () => encodeRecordBatch({ timestamp: -1, records: [{ value: Buffer.alloc(700) }] });
      await log.append(untimed());
      await log.append(untimed());
      clock.advance(30_000);
      expect(await log.applyRetention(clock.now())).toBe(0);
      clock.advance(31_000);
      expect(await log.applyRetention(clock.now())).toBe(2);
      expect(log.logStartOffset).toBe(2);
    });

    it('rolls segments by size and by age', async () => {
      const log = await open({ segmentBytes: 2048, segmentMs: 60_000 });
      for (let i = 0; i < 40; i++) await log.append(batch(2, 1_700_000_000_000, 40));
      expect(log.size).toBeGreaterThan(2048);
      const sizeBefore = log.size;
      await log.deleteBefore(40);
      expect(log.size).toBeLessThan(sizeBefore);

      const aged = await engine.openLog({ topic: 'aged', partition: 0 }, config({ segmentMs: 60_000 }));
      await aged.append(batch(1));
      clock.advance(61_000);
      await aged.append(batch(1));
      const oneSegment = aged.size;
      await aged.deleteBefore(1);
      expect(aged.size).toBeLessThan(oneSegment);
      expect(batchesOf((await aged.read(1, 1 << 20)).records).map((b) => b.baseOffset)).toEqual([1]);
    });

    it('deletes expired segments by time and the oldest by size', async () => {
      const log = await open({ segmentBytes: 1024, retentionMs: 10_000 });
      const now = clock.now();
      for (let i = 0; i < 20; i++) await log.append(batch(2, now - 60_000, 50));
      const oldEnd = log.logEndOffset;
      for (let i = 0; i < 20; i++) await log.append(batch(2, now, 50));
      const deleted = await log.applyRetention(now);
      expect(deleted).toBeGreaterThan(0);
      expect(log.logStartOffset).toBeGreaterThan(0);
      expect(log.logStartOffset).toBeLessThanOrEqual(oldEnd);
      await expect(log.read(0, 100)).rejects.toSatisfy((e) => BrokerError.is(e, 'OFFSET_OUT_OF_RANGE'));
      const { records } = await log.read(log.logStartOffset, 1 << 20);
      expect(batchesOf(records)[0]!.baseOffset).toBe(log.logStartOffset);

      log.updateConfig(config({ segmentBytes: 1024, retentionBytes: 2048 }));
      await log.applyRetention(now);
      expect(log.size).toBeLessThanOrEqual(2048 + 1024);
      expect(log.logEndOffset).toBe(80);
    });

    it('expires the active segment too, by rolling it first', async () => {
      const log = await open({ retentionMs: 1000 });
      await log.append(batch(3, clock.now() - 5000));
      expect(await log.applyRetention(clock.now())).toBe(1);
      expect(log.logStartOffset).toBe(3);
      expect(log.logEndOffset).toBe(3);
      expect((await log.append(batch(1))).baseOffset).toBe(3);
    });

    it('truncates whole batches and appends after the cut', async () => {
      const log = await open({ segmentBytes: 1024 });
      for (let i = 0; i < 30; i++) await log.append(batch(2, 1_700_000_000_000, 40));
      await log.truncateTo(31);
      expect(log.logEndOffset).toBe(30);
      expect(log.highWatermark).toBe(30);
      await log.truncateTo(12);
      expect(log.logEndOffset).toBe(12);
      expect((await log.append(batch(1))).baseOffset).toBe(12);
      const offsets: number[] = [];
      for (let offset = 0; offset < log.logEndOffset; ) {
        const batches = batchesOf((await log.read(offset, 1 << 20)).records);
        for (const b of batches) offsets.push(b.baseOffset);
        offset = batches[batches.length - 1]!.nextOffset;
      }
      expect(offsets).toEqual([0, 2, 4, 6, 8, 10, 12]);
    });

    it('moves the log start offset with deleteBefore and reclaims whole segments', async () => {
      const log = await open({ segmentBytes: 1024 });
      for (let i = 0; i < 30; i++) await log.append(batch(2, 1_700_000_000_000, 40));
      const sizeBefore = log.size;
      await log.deleteBefore(41);
      expect(log.logStartOffset).toBe(41);
      expect(log.size).toBeLessThan(sizeBefore);
      await expect(log.read(40, 10)).rejects.toSatisfy((e) => BrokerError.is(e, 'OFFSET_OUT_OF_RANGE'));
      expect(batchesOf((await log.read(41, 1)).records)[0]!.baseOffset).toBe(40);
      await log.deleteBefore(60);
      expect(log.logStartOffset).toBe(60);
      expect((await log.append(batch(1))).baseOffset).toBe(60);
    });

    it('keeps a durable deleteBefore that deleted no segment across a crash', async () => {
      if (!harness.reopen) return;
      const log = await open({});
      for (let i = 0; i < 5; i++) await log.append(batch(2));
      await log.deleteBefore(4, { durable: true });
      engine = await harness.reopen({ clean: false });
      await engine.open();
      const reopened = await open({});
      expect(reopened.logStartOffset).toBe(4);
      expect(reopened.logEndOffset).toBe(10);
      await expect(reopened.read(3, 100)).rejects.toSatisfy((e) => BrokerError.is(e, 'OFFSET_OUT_OF_RANGE'));
    });

    it('keeps call order for concurrent appends and shares syncs under flush=always', async () => {
      const log = await engine.openLog(ID, config({ flush: { kind: 'always' }, segmentBytes: 4096 }));
      const watched: number[] = [];
      log.watch((hw) => watched.push(hw));
      const results = await Promise.all(Array.from({ length: 64 }, (_, i) => log.append(batch(1 + (i % 3)))));
      let expected = 0;
      for (const [i, r] of results.entries()) {
        expect(r.baseOffset).toBe(expected);
        expected += 1 + (i % 3);
      }
      expect(log.highWatermark).toBe(expected);
      expect(watched[watched.length - 1]).toBe(expected);
      expect(watched).toEqual([...watched].sort((a, b) => a - b));
    });

    it('stamps LogAppendTime when asked', async () => {
      const log = await open();
      const result = await log.append(batch(2, 5), { logAppendTime: 1_800_000_000_000 });
      expect(result.logAppendTime).toBe(1_800_000_000_000);
      const { records } = await log.read(0, 1000);
      validateRecordBatch(records);
      expect(decodeRecords(records).map((r) => r.timestamp)).toEqual([1_800_000_000_000, 1_800_000_000_000]);
    });

    it('lists and deletes logs', async () => {
      const log = await open();
      await log.append(batch(1));
      await engine.openLog({ topic: 'other/topic %x', partition: 3 }, config());
      const ids = (await engine.listLogs()).map((id) => `${id.topic}:${id.partition}`).sort();
      expect(ids).toEqual(['conformance:0', 'other/topic %x:3']);
      await engine.deleteLog(ID);
      expect((await engine.listLogs()).map((id) => id.topic)).toEqual(['other/topic %x']);
      const fresh = await open();
      expect(fresh.logEndOffset).toBe(0);
    });

    it('deletes a log cleanly while segment deletions and rolls it was asked for are still running', async () => {
      for (let round = 0; round < 5; round++) {
        const log = await open({ segmentBytes: 1024, indexIntervalBytes: 128 });
        for (let i = 0; i < 30; i++) await log.append(batch(2, 1_700_000_000_000, 40));
        const pending = [log.deleteBefore(20 + round), log.roll(), log.applyRetention(clock.now()), log.deleteBefore(log.logEndOffset), log.roll()];
        await engine.deleteLog(ID);
        await Promise.all(pending);
        expect((await engine.listLogs()).map((id) => id.topic)).not.toContain(ID.topic);
      }
    });

    describe('idempotent producers', () => {
      /** Appends `batches` batches for each producer in turn, with plain batches between; returns each producer's batches. */
      async function produce(log: PartitionLog, producers: number[], batches: number, next: Map<number, Array<{ bytes: Buffer; baseOffset: number }>>) {
        for (let i = 0; i < batches; i++) {
          for (const producerId of producers) {
            const sent = next.get(producerId) ?? [];
            next.set(producerId, sent);
            const bytes = producerBatch(producerId, sent.length * 2, 2, clock.now());
            const copy = Buffer.from(bytes);
            expect(log.producerState.check(bytes)).toEqual({ kind: 'append' });
            sent.push({ bytes: copy, baseOffset: (await log.append(bytes)).baseOffset });
            if (i % 3 === 0) await log.append(batch(1, clock.now()));
          }
        }
      }

      /** Each producer's last five batches are duplicates with their offsets; the one before is out of order; the next one appends. */
      function expectRetriesRecognised(log: PartitionLog, sent: Map<number, Array<{ bytes: Buffer; baseOffset: number }>>) {
        for (const [producerId, batches] of sent) {
          for (const { bytes, baseOffset } of batches.slice(-5)) expect(log.producerState.check(bytes)).toMatchObject({ kind: 'duplicate', baseOffset, lastOffset: baseOffset + 1 });
          const older = log.producerState.check(batches[batches.length - 6]!.bytes);
          expect(older.kind === 'rejected' && older.error.code).toBe('OUT_OF_ORDER_SEQUENCE');
          expect(log.producerState.check(producerBatch(producerId, batches.length * 2))).toEqual({ kind: 'append' });
        }
      }

      it('keeps each producer\'s last five batches from the appended headers, across rolls, deletions, a clean close and a crash', async () => {
        const settings = { segmentBytes: 1024, indexIntervalBytes: 128 };
        const log = await open(settings);
        const sent = new Map<number, Array<{ bytes: Buffer; baseOffset: number }>>();
        await produce(log, [1, 2, 2 ** 40], 12, sent);
        expectRetriesRecognised(log, sent);
        await log.deleteBefore(log.logEndOffset - 20);
        expectRetriesRecognised(log, sent);
        if (!harness.reopen) return;
        engine = await harness.reopen({ clean: true });
        await engine.open();
        const reopened = await open(settings);
        expectRetriesRecognised(reopened, sent);
        await produce(reopened, [2, 3], 6, sent);
        engine = await harness.reopen({ clean: false });
        await engine.open();
        const recovered = await open(settings);
        expectRetriesRecognised(recovered, sent);
      });

      it('rebuilds the state of what is left after truncateTo', async () => {
        const log = await open({ segmentBytes: 1024, indexIntervalBytes: 128 });
        const sent = new Map<number, Array<{ bytes: Buffer; baseOffset: number }>>();
        await produce(log, [5], 14, sent);
        const batches = sent.get(5)!;
        await log.truncateTo(batches[10]!.baseOffset);
        sent.set(5, batches.slice(0, 10));
        expectRetriesRecognised(log, sent);
        expect(log.producerState.check(batches[11]!.bytes)).toMatchObject({ kind: 'rejected' });
        await produce(log, [5], 2, sent);
        expectRetriesRecognised(log, sent);
        if (harness.reopen) {
          engine = await harness.reopen({ clean: false });
          await engine.open();
          expectRetriesRecognised(await open({ segmentBytes: 1024, indexIntervalBytes: 128 }), sent);
        }
        const again = await open({ segmentBytes: 1024, indexIntervalBytes: 128 });
        await again.truncateTo(0);
        expect(again.producerState.check(batches[13]!.bytes)).toEqual({ kind: 'append' });
      });

      it('forgets a producer idle for producer.id.expiration.ms (1 day), at the retention check', async () => {
        const log = await open({ retentionMs: -1 });
        const sent = new Map<number, Array<{ bytes: Buffer; baseOffset: number }>>();
        await produce(log, [9], 6, sent);
        clock.advance(24 * 3600 * 1000 - 1);
        await log.applyRetention(clock.now());
        expectRetriesRecognised(log, sent);
        clock.advance(1);
        await log.applyRetention(clock.now());
        expect(log.producerState.check(sent.get(9)![5]!.bytes)).toEqual({ kind: 'append' });
      });
    });

    describe('transactions', () => {
      const txnBatch = (producerId: number, baseSequence: number, count = 2): Buffer =>
        encodeRecordBatch({ producerId, producerEpoch: 0, baseSequence, transactional: true, timestamp: clock.now(), records: Array.from({ length: count }, (_, i) => ({ value: Buffer.alloc(20, i) })) });

      it('holds the last stable offset at the oldest open transaction, indexes aborted ones, and keeps both across rolls, a clean close and a crash', async () => {
        const settings = { segmentBytes: 1024, indexIntervalBytes: 128 };
        const log = await open(settings);
        await log.append(batch(1));
        expect(log.lastStableOffset).toBe(log.highWatermark);
        const first1 = (await log.append(txnBatch(1, 0))).baseOffset;
        const first2 = (await log.append(txnBatch(2, 0))).baseOffset;
        await log.append(txnBatch(1, 2));
        await log.append(batch(3));
        expect(log.lastStableOffset).toBe(first1);
        // A plain batch from a producer inside its transaction is refused, as Kafka does.
        const plain = encodeRecordBatch({ producerId: 1, producerEpoch: 0, baseSequence: 4, records: [{ value: Buffer.from('x') }] });
        const refused = log.producerState.check(plain);
        expect(refused.kind === 'rejected' && refused.error.code).toBe('INVALID_TXN_STATE');
        const abort1 = (await log.append(encodeTxnMarker(ControlType.abort, 1, 0, 0, clock.now()))).baseOffset;
        expect(log.lastStableOffset).toBe(first2);
        expect(log.abortedTransactions(0, log.logEndOffset)).toEqual([{ producerId: 1, firstOffset: first1, lastOffset: abort1 }]);
        expect(log.abortedTransactions(abort1 + 1, log.logEndOffset)).toEqual([]);
        expect(log.abortedTransactions(0, first1)).toEqual([]);
        // The sequence goes on after a marker: it has none of its own.
        expect(log.producerState.check(txnBatch(1, 4))).toEqual({ kind: 'append' });
        await log.append(encodeTxnMarker(ControlType.commit, 2, 0, 0, clock.now()));
        expect(log.lastStableOffset).toBe(log.highWatermark);
        const first3 = (await log.append(txnBatch(3, 0))).baseOffset;
        for (let i = 0; i < 20; i++) await log.append(batch(2, clock.now(), 40));
        expect(log.segmentCount).toBeGreaterThan(1);
        const expectState = (l: PartitionLog) => {
          expect(l.lastStableOffset).toBe(first3);
          expect(l.abortedTransactions(0, l.logEndOffset)).toEqual([{ producerId: 1, firstOffset: first1, lastOffset: abort1 }]);
        };
        expectState(log);
        if (!harness.reopen) return;
        engine = await harness.reopen({ clean: true });
        await engine.open();
        expectState(await open(settings));
        engine = await harness.reopen({ clean: false });
        await engine.open();
        const recovered = await open(settings);
        expectState(recovered);
        const abort3 = (await recovered.append(encodeTxnMarker(ControlType.abort, 3, 0, 0, clock.now()))).baseOffset;
        expect(recovered.lastStableOffset).toBe(recovered.highWatermark);
        expect(recovered.abortedTransactions(first3, recovered.logEndOffset)).toEqual([{ producerId: 3, firstOffset: first3, lastOffset: abort3 }]);
        engine = await harness.reopen({ clean: false });
        await engine.open();
        expect((await open(settings)).abortedTransactions(0, Number.MAX_SAFE_INTEGER).map((a) => a.producerId)).toEqual([1, 3]);
      });

      it('keeps each producer\'s coordinator epoch of its last marker across rolls, a clean close and a crash: an older one is TRANSACTION_COORDINATOR_FENCED', async () => {
        const settings = { segmentBytes: 1024, indexIntervalBytes: 128 };
        const log = await open(settings);
        await log.append(txnBatch(4, 0));
        await log.append(encodeTxnMarker(ControlType.commit, 4, 0, 6, clock.now()));
        for (let i = 0; i < 20; i++) await log.append(batch(2, clock.now(), 40));
        expect(log.segmentCount).toBeGreaterThan(1);
        const expectFenced = (l: PartitionLog) => {
          expect(l.producerState.checkMarker(4, 0, 5)?.code).toBe('TRANSACTION_COORDINATOR_FENCED');
          expect(l.producerState.checkMarker(4, 0, 6)).toBeUndefined();
          expect(l.producerState.describe().find((p) => p.producerId === 4)?.coordinatorEpoch).toBe(6);
        };
        expectFenced(log);
        if (!harness.reopen) return;
        engine = await harness.reopen({ clean: true });
        await engine.open();
        const reopened = await open(settings);
        expectFenced(reopened);
        await reopened.append(encodeTxnMarker(ControlType.abort, 4, 1, 8, clock.now()));
        engine = await harness.reopen({ clean: false });
        await engine.open();
        const recovered = await open(settings);
        expect(recovered.producerState.checkMarker(4, 1, 7)?.code).toBe('TRANSACTION_COORDINATOR_FENCED');
        expect(recovered.producerState.checkMarker(4, 0, 9)?.code).toBe('INVALID_PRODUCER_EPOCH');
      });

      it('forgets aborted transactions whose segments are deleted', async () => {
        const log = await open({ segmentBytes: 1024, indexIntervalBytes: 128 });
        await log.append(txnBatch(7, 0));
        await log.append(encodeTxnMarker(ControlType.abort, 7, 0, 0, clock.now()));
        for (let i = 0; i < 24; i++) await log.append(batch(2, clock.now(), 40));
        expect(log.abortedTransactions(0, log.logEndOffset)).toHaveLength(1);
        await log.deleteBefore(log.logEndOffset - 1);
        expect(log.abortedTransactions(0, log.logEndOffset)).toEqual([]);
      });
    });

    describe('compaction', () => {
      const compacted = (overrides: Partial<LogConfig> = {}) => open({ segmentBytes: 1024, cleanupPolicy: 'compact', ...overrides });

      it('keeps the latest record per key at its offset, never touching the active segment', async () => {
        const log = await compacted();
        for (let i = 0; i < 60; i++) await log.append(keyed([[`k${i % 5}`, `v${i}`]]));
        await log.roll();
        await log.append(keyed([['k0', 'active']]));
        const before = await readAll(log);
        const stats = await log.compact();
        expect(stats?.completed).toBe(true);
        expect(stats?.recordsRemoved).toBe(55);
        const after = await readAll(log);
        expect(after).toEqual([...[55, 56, 57, 58, 59].map((o) => [o, `k${o % 5}`, `v${o}`]), [60, 'k0', 'active']]);
        expect(after.every(([o, k, v]) => before.some(([bo, bk, bv]) => bo === o && bk === k && bv === v))).toBe(true);
        expect(log.logStartOffset).toBe(0);
        expect(log.logEndOffset).toBe(61);
        expect((await log.append(keyed([['k1', 'next']]))).baseOffset).toBe(61);
        const { records } = await log.read(3, 1 << 20);
        expect(batchesOf(records)[0]!.baseOffset).toBe(55);
        for (const b of batchesOf(records)) expect(validateRecordBatch(b.bytes)).toBe(b.sizeInBytes);
      });

      it('keeps the survivors of a batch in a smaller batch, uncompressed, with their offsets and timestamps', async () => {
        const log = await compacted();
        const plain = encodeRecordBatch({
          timestamp: 1_700_000_000_000,
          records: ['a', 'b', 'c', 'd'].map((key, i) => ({ key: Buffer.from(key), value: Buffer.from(`first-${key}`), timestamp: 1_700_000_000_000 + i * 1000 })),
        });
        const gzipped = Buffer.concat([plain.subarray(0, BatchField.records), gzipSync(plain.subarray(BatchField.records))]);
        gzipped.writeInt32BE(gzipped.length - LOG_OVERHEAD, BatchField.batchLength);
        gzipped.writeInt16BE(Compression.gzip, BatchField.attributes);
        gzipped.writeUInt32BE(crc32c(gzipped, BatchField.attributes, gzipped.length), BatchField.crc);
        await log.append(gzipped);
        await log.append(keyed([['b', 'second-b'], ['d', 'second-d']]));
        await log.roll();
        await log.compact();
        const { records } = await log.read(0, 1 << 20);
        const [first] = batchesOf(records);
        expect(first!.compression).toBe(Compression.none);
        expect(first!.recordCount).toBe(2);
        expect(first!.lastOffset).toBe(3);
        expect(first!.maxTimestamp).toBe(1_700_000_002_000);
        expect(decodeRecords(first!.bytes).map((r) => [r.offset, r.key?.toString(), r.timestamp])).toEqual([
          [0, 'a', 1_700_000_000_000],
          [2, 'c', 1_700_000_002_000],
        ]);
        expect(validateRecordBatch(first!.bytes)).toBe(first!.sizeInBytes);
        expect(await log.offsetForTime(1_700_000_001_000)).toEqual({ offset: 2, timestamp: 1_700_000_002_000 });
      });

      it('drops keyless records, keeps tombstones for delete.retention.ms after a pass first keeps them, then drops them', async () => {
        const log = await compacted({ compaction: { deleteRetentionMs: 60_000 } });
        const t = clock.now();
        await log.append(keyed([['gone', 'v'], [null, 'keyless'], ['kept', 'v']], t - 5000));
        await log.append(keyed([['gone', null]], t - 4000));
        await log.roll();
        await log.compact();
        expect(await readAll(log)).toEqual([[2, 'kept', 'v'], [3, 'gone', null]]);
        const [, tombstones] = batchesOf((await log.read(0, 1 << 20)).records);
        // KIP-534: the batch now carries its delete horizon as its base timestamp; the record keeps its timestamp.
        expect(tombstones!.attributes & 0x40).toBe(0x40);
        expect(tombstones!.baseTimestamp).toBe(t + 60_000);
        expect(decodeRecords(tombstones!.bytes)[0]!.timestamp).toBe(t - 4000);
        expect(log.compactionState(t)).toBeUndefined();
        clock.advance(30_000);
        await log.append(keyed([['other', 'w']], clock.now()));
        await log.roll();
        await log.compact();
        expect(await readAll(log)).toEqual([[2, 'kept', 'v'], [3, 'gone', null], [4, 'other', 'w']]);
        clock.advance(30_001);
        expect(log.compactionState(clock.now())).toMatchObject({ due: true });
        await log.compact();
        expect(await readAll(log)).toEqual([[2, 'kept', 'v'], [4, 'other', 'w']]);
        expect(log.compactionState(clock.now())).toBeUndefined();
      });

      it('leaves records younger than min.compaction.lag.ms, and is due by its dirty ratio', async () => {
        const log = await compacted({ compaction: { minCompactionLagMs: 60_000, minCleanableDirtyRatio: 0.5 } });
        for (let i = 0; i < 20; i++) await log.append(keyed([['k', `v${i}`]], clock.now()));
        await log.roll();
        expect(log.compactionState(clock.now())).toBeUndefined();
        expect(await log.compact(clock.now())).toBeUndefined();
        clock.advance(60_001);
        expect(log.compactionState(clock.now())).toMatchObject({ dirtyRatio: 1, due: true });
        await log.compact(clock.now());
        expect(await readAll(log)).toEqual([[19, 'k', 'v19']]);
        expect(log.compactionState(clock.now())).toBeUndefined();
      });

      it('keeps an idempotent producer\'s last batch, emptied, so its retries are still recognised', async () => {
        const log = await compacted();
        const sent = encodeRecordBatch({ producerId: 7, producerEpoch: 0, baseSequence: 0, records: [{ key: Buffer.from('k'), value: Buffer.from('old') }] });
        await log.append(Buffer.from(sent));
        await log.append(keyed([['k', 'new']]));
        await log.roll();
        await log.compact();
        const { records } = await log.read(0, 1 << 20);
        const batches = batchesOf(records);
        expect(batches.map((b) => [b.baseOffset, b.recordCount, b.producerId])).toEqual([[0, 0, 7], [1, 1, -1]]);
        expect(log.producerState.check(sent)).toMatchObject({ kind: 'duplicate', baseOffset: 0 });
      });

      it('cleans nothing from the last stable offset on, drops aborted transactions\' records, and drops a marker once its transaction has no record left and its delete horizon has passed', async () => {
        const log = await compacted();
        const transactional = (producerId: number, baseSequence: number, key: string, value: string): Buffer =>
          encodeRecordBatch({ producerId, producerEpoch: 0, baseSequence, transactional: true, records: [{ key: Buffer.from(key), value: Buffer.from(value) }] });
        const marker = async (type: ControlTypeCode, producerId: number) => (await log.append(encodeTxnMarker(type, producerId, 0, 0, clock.now()))).baseOffset;
        const keysOf = async () => (await readAll(log)).filter(([, key]) => key?.startsWith('k')).map(([offset, key, value]) => `${offset} ${key}=${value}`);
        const markers = async () => batchesOf((await log.read(0, 1 << 20)).records).filter((b) => b.isControl).map((b) => b.baseOffset);
        await log.append(keyed([['k0', 'committed'], ['k1', 'old']]));
        const open = (await log.append(transactional(5, 0, 'k0', 'aborted'))).baseOffset;
        await log.append(transactional(6, 0, 'k1', 'new'));
        await log.roll();
        await log.append(keyed([['k2', 'x']]));
        await log.roll();
        expect(log.lastStableOffset).toBe(open);
        await log.compact();
        // Both transactions may still abort: their keys' earlier values stay.
        expect(await keysOf()).toEqual(['0 k0=committed', '1 k1=old', `${open} k0=aborted`, `${open + 1} k1=new`, `${open + 2} k2=x`]);
        const abort = await marker(ControlType.abort, 5);
        const commit = await marker(ControlType.commit, 6);
        // Producer 5 goes on: the aborted batch is no longer its last, which the cleaner would keep (empty).
        const later = (await log.append(transactional(5, 1, 'k5', 'later'))).baseOffset;
        const commitLater = await marker(ControlType.commit, 5);
        await log.append(keyed([['k3', 'y']]));
        await log.roll();
        expect(log.lastStableOffset).toBe(log.highWatermark);
        await log.compact();
        const survivors = ['0 k0=committed', `${open + 1} k1=new`, `${open + 2} k2=x`, `${later} k5=later`, `${commitLater + 1} k3=y`];
        expect(await keysOf()).toEqual(survivors);
        // The pass that removed the aborted records keeps their marker and index entry (a reader may hold the old segment).
        expect(await markers()).toEqual([abort, commit, commitLater]);
        expect(log.abortedTransactions(0, log.logEndOffset)).toHaveLength(1);
        const next = (await log.append(keyed([['k4', 'z']]))).baseOffset;
        await log.roll();
        await log.compact();
        expect(log.abortedTransactions(0, log.logEndOffset)).toEqual([]);
        expect(await markers()).toEqual([abort, commit, commitLater]);
        clock.advance(defaultCompactionConfig.deleteRetentionMs + 1);
        expect(log.compactionState(clock.now())).toMatchObject({ due: true });
        await log.compact();
        // Committed transactions whose records are still there keep their markers.
        expect(await markers()).toEqual([commit, commitLater]);
        expect(await keysOf()).toEqual([...survivors, `${next} k4=z`]);
      });

      it('only compacts logs whose policy says so, and retention leaves a compact-only log alone', async () => {
        const plain = await engine.openLog({ topic: 'plain', partition: 0 }, config({ segmentBytes: 1024, retentionMs: 1000 }));
        for (let i = 0; i < 5; i++) await plain.append(keyed([['k', `v${i}`]]));
        await plain.roll();
        expect(await plain.compact()).toBeUndefined();
        expect(await readAll(plain)).toHaveLength(5);
        const log = await compacted({ retentionMs: 1000 });
        await log.append(keyed([['k', 'v']], clock.now()));
        await log.roll();
        clock.advance(5000);
        expect(await log.applyRetention(clock.now())).toBe(0);
        expect(await readAll(log)).toEqual([[0, 'k', 'v']]);
      });

      it('keeps the compacted log, gaps and all, across a clean close and a crash, and keeps appending', async () => {
        if (!harness.reopen) return;
        const settings = { segmentBytes: 1024, cleanupPolicy: 'compact' as const };
        const log = await compacted();
        for (let i = 0; i < 100; i++) await log.append(keyed([[`k${i % 7}`, `v${i}`]]));
        await log.roll();
        await log.compact();
        const expected = await readAll(log);
        const end = log.logEndOffset;
        for (const clean of [true, false]) {
          engine = await harness.reopen({ clean });
          await engine.open();
          const reopened = await open(settings);
          expect(await readAll(reopened)).toEqual(expected);
          expect(reopened.logEndOffset).toBe(end);
          expect(await reopened.compact()).toBeUndefined();
        }
        const last = await open(settings);
        expect((await last.append(keyed([['k0', 'after']]))).baseOffset).toBe(end);
      });
    });

    it('recovers everything after a clean close and after a crash', async () => {
      if (!harness.reopen) return;
      const log = await open({ segmentBytes: 2048, indexIntervalBytes: 200 });
      const appended: Buffer[] = [];
      for (let i = 0; i < 50; i++) {
        const b = batch(1 + (i % 3), 1_700_000_000_000 + i, 30);
        await log.append(b);
        appended.push(b);
      }
      await log.deleteBefore(2);
      const end = log.logEndOffset;
      for (const clean of [true, false]) {
        engine = await harness.reopen({ clean });
        await engine.open();
        const reopened = await open({ segmentBytes: 2048, indexIntervalBytes: 200 });
        expect(reopened.logEndOffset).toBe(end);
        expect(reopened.highWatermark).toBe(end);
        expect(reopened.logStartOffset).toBe(2);
        const chunks: Buffer[] = [];
        for (let offset = 2; offset < end; ) {
          const { records } = await reopened.read(offset, 500);
          chunks.push(records);
          offset = batchesOf(records).pop()!.nextOffset;
        }
        expect(Buffer.concat(chunks).equals(Buffer.concat(appended.slice(1)))).toBe(true);
        expect(await reopened.offsetForTime(1_700_000_000_000 + 40)).toBeDefined();
        expect((await reopened.append(batch(1))).baseOffset).toBe(end);
        await reopened.truncateTo(end);
      }
    });
  });
}
