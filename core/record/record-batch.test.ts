import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../errors.ts';
import { gzipSync } from 'node:zlib';
import { Compression } from './compression.ts';
import { crc32c, crc32cJs } from './crc32c.ts';
import {
  RecordBatch,
  decodeRecords,
  encodeRecordBatch,
  repairMaxTimestamp,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  validateRecordBatch,
  type RecordInput,
} from './record-batch.ts';

/** CPU milliseconds this process has used; unlike wall-clock time it does not grow while a busy machine runs other processes. */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const require = createRequire(import.meta.url);
const { RecordBatch: kafkajsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js');
const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js');
const kafkajsBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder.js');
const KafkajsDecoder = require('kafkajs/src/protocol/decoder.js');

const bytes = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(bytes, { nil: null }),
  value: fc.option(bytes, { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 12 }), value: fc.option(bytes, { nil: null }) }), { maxLength: 3 }),
  timestamp: fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }),
});

describe('crc32c', () => {
  it('matches the check value and agrees between native and JS at every size', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(16), (arr, cut) => {
        const buf = Buffer.from(arr);
        const start = Math.min(cut, buf.length);
        expect(crc32c(buf, start)).toBe(crc32cJs(buf, start));
      }),
    );
  });
});

describe('record batch codec', () => {
  it('round-trips records through encode and decode', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 20 }), fc.nat(1_000_000), (records, baseOffset) => {
        const buf = encodeRecordBatch({ records, baseOffset });
        expect(validateRecordBatch(buf)).toBe(buf.length);
        const batch = new RecordBatch(buf);
        expect(batch.baseOffset).toBe(baseOffset);
        expect(batch.recordCount).toBe(records.length);
        expect(batch.lastOffset).toBe(baseOffset + records.length - 1);
        expect(batch.maxTimestamp).toBe(Math.max(...records.map((r) => r.timestamp!)));
        const decoded = decodeRecords(buf);
        decoded.forEach((record, i) => {
          const input = records[i]!;
          expect(record.offset).toBe(baseOffset + i);
          expect(record.timestamp).toBe(input.timestamp);
          expect(record.key).toEqual(input.key);
          expect(record.value).toEqual(input.value);
          expect(record.headers).toEqual(input.headers);
        });
      }),
    );
  });

  it('keeps the CRC valid when baseOffset and leader epoch are patched, and fixes it for LogAppendTime', () => {
    const buf = encodeRecordBatch({ records: [{ value: Buffer.from('a') }, { value: Buffer.from('b') }] });
    setBaseOffset(buf, 0, 2 ** 40 + 7);
    setPartitionLeaderEpoch(buf, 0, 9);
    expect(validateRecordBatch(buf)).toBe(buf.length);
    expect(new RecordBatch(buf).baseOffset).toBe(2 ** 40 + 7);
    setLogAppendTime(buf, 0, 1_700_000_000_123);
    expect(validateRecordBatch(buf)).toBe(buf.length);
    const batch = new RecordBatch(buf);
    expect(batch.isLogAppendTime).toBe(true);
    expect(decodeRecords(buf).map((r) => r.timestamp)).toEqual([1_700_000_000_123, 1_700_000_000_123]);
  });

  it('reads batches kafkajs encodes, and kafkajs reads ours', async () => {
    const records = [
      kafkajsRecord({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: { h: 'x' } }),
      kafkajsRecord({ offsetDelta: 1, timestampDelta: 5, key: null, value: Buffer.from('v2') }),
    ];
    const encoded = await kafkajsRecordBatch({ firstTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_005, lastOffsetDelta: 1, records });
    const buf = Buffer.from(encoded.buffer);
    validateRecordBatch(buf);
    const decoded = decodeRecords(buf);
    expect(decoded.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString()])).toEqual([
      [0, 1_700_000_000_000, 'k1', 'v1'],
      [1, 1_700_000_000_005, null, 'v2'],
    ]);
    expect(decoded[0]!.headers).toEqual([{ key: 'h', value: Buffer.from('x') }]);

    const ours = encodeRecordBatch({ baseOffset: 42, records: [{ key: Buffer.from('k'), value: Buffer.from('v'), headers: [{ key: 'a', value: Buffer.from('b') }], timestamp: 1 }] });
    const theirs = await kafkajsBatchDecoder(new KafkajsDecoder(ours));
    expect(theirs.records[0].offset).toBe('42');
    expect(theirs.records[0].key.toString()).toBe('k');
    expect(theirs.records[0].headers.a.toString()).toBe('b');
  });

  it('turns any byte string or corruption of a valid batch into a value or a typed error, quickly', () => {
    const valid = encodeRecordBatch({ records: [{ key: Buffer.from('key'), value: Buffer.alloc(50, 1), headers: [{ key: 'h', value: null }] }] });
    const mutated = fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(valid.length)).map(([at, byte, cut]) => {
      const copy = Buffer.from(valid);
      copy[at] = byte;
      return copy.subarray(0, Math.max(cut, 1));
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), mutated), (buf) => {
        const started = cpuMs();
        for (const attempt of [() => validateRecordBatch(buf), () => decodeRecords(buf)]) {
          try {
            attempt();
          } catch (err) {
            expect(err).toBeInstanceOf(BrokerError);
          }
        }
        expect(cpuMs() - started).toBeLessThan(250);
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects impossible counts and CRC flips', () => {
    const buf = encodeRecordBatch({ records: [{ value: Buffer.from('x') }] });
    buf.writeInt32BE(1_000_000, 57);
    expect(() => validateRecordBatch(buf)).toThrow(/CRC/);
    expect(() => decodeRecords(buf)).toThrow(BrokerError);
  });

  describe('repairMaxTimestamp', () => {
    const records = [3000, 1000, 5000, 2000].map((timestamp, i) => ({ value: Buffer.from(`v${i}`), timestamp }));
    /** A batch as Sarama 1.22 writes it: maxTimestamp left at -1. */
    const withMaxTimestamp = (batch: Buffer, maxTimestamp: bigint): Buffer => {
      batch.writeBigInt64BE(maxTimestamp, 35);
      batch.writeUInt32BE(crc32c(batch, 21, batch.length), 17);
      return batch;
    };
    const gzipped = (plain: Buffer): Buffer => {
      const batch = Buffer.concat([plain.subarray(0, 61), gzipSync(plain.subarray(61))]);
      batch.writeInt32BE(batch.length - 12, 8);
      batch.writeInt16BE(Compression.gzip, 21);
      batch.writeUInt32BE(crc32c(batch, 21, batch.length), 17);
      return batch;
    };

    it('sets a maxTimestamp below the base timestamp to the largest record timestamp, compressed or not, and keeps the CRC valid', () => {
      for (const batch of [withMaxTimestamp(encodeRecordBatch({ records }), -1n), withMaxTimestamp(gzipped(encodeRecordBatch({ records })), -1n)]) {
        expect(repairMaxTimestamp(batch)).toBe(true);
        expect(new RecordBatch(batch).maxTimestamp).toBe(5000);
        expect(validateRecordBatch(batch)).toBe(batch.length);
      }
    });

    it('leaves a plausible header alone, touching no byte', () => {
      const batch = encodeRecordBatch({ records });
      const before = Buffer.from(batch);
      expect(repairMaxTimestamp(batch)).toBe(false);
      expect(batch.equals(before)).toBe(true);
    });

    it('makes a batch its producer flagged LogAppendTime a CreateTime one, as Kafka does', () => {
      const batch = encodeRecordBatch({ records, logAppendTime: true });
      expect(repairMaxTimestamp(batch)).toBe(true);
      expect(new RecordBatch(batch).isLogAppendTime).toBe(false);
      expect(validateRecordBatch(batch)).toBe(batch.length);
    });
  });
});
