import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../errors.ts';
import { BatchField, validateRecordBatch } from '../record/record-batch.ts';
import { VarintReader } from '../record/varint.ts';
import { StreamBatchBuilder } from './stream-batch-builder.ts';
import { StreamEntryEncoder } from './stream-entry-encoder.ts';

/** Encodes AMQP 1.0 values the way the mapping writes them back (canonical forms). */
const str = (text: string): Buffer => {
  const b = Buffer.from(text);
  return b.length <= 255 ? Buffer.concat([Buffer.from([0xa1, b.length]), b]) : Buffer.concat([Buffer.from([0xb1]), u32(b.length), b]);
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const int = (n: number): Buffer => Buffer.concat([Buffer.from([0x71]), Buffer.from(Int32Array.of(n).buffer).reverse()]);
const section = (code: number, value: Buffer): Buffer => Buffer.concat([Buffer.from([0x00, 0x53, code]), value]);
const map32 = (entries: Buffer[], count: number): Buffer => {
  const body = Buffer.concat(entries);
  return Buffer.concat([Buffer.from([0xd1]), u32(4 + body.length), u32(count), body]);
};
const data = (body: Buffer): Buffer => section(0x75, body.length <= 255 ? Buffer.concat([Buffer.from([0xa0, body.length]), body]) : Buffer.concat([Buffer.from([0xb0]), u32(body.length), body]));
const properties = (messageId: string): Buffer => {
  const fields = Buffer.concat([str(messageId), Buffer.from([0x40, 0x40])]);
  return section(0x73, Buffer.concat([Buffer.from([0xd0]), u32(4 + fields.length), u32(3), fields]));
};

const message = fc.record({
  messageId: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
  strings: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 300 }), { maxKeys: 4 }),
  ints: fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.integer(), { maxKeys: 3 }),
  body: fc.uint8Array({ maxLength: 600 }),
});

type Generated = typeof message extends fc.Arbitrary<infer T> ? T : never;

function encodeMessage(m: Generated): Buffer {
  const parts: Buffer[] = [];
  if (m.messageId !== undefined) parts.push(properties(m.messageId));
  const strings = Object.entries(m.strings).filter(([k]) => !k.startsWith('x-amqp-'));
  const ints = Object.entries(m.ints).filter(([k]) => !(k in m.strings) && !k.startsWith('x-amqp-'));
  if (strings.length + ints.length > 0) {
    const entries = [...strings.map(([k, v]) => Buffer.concat([str(k), str(v)])), ...ints.map(([k, v]) => Buffer.concat([str(k), int(v)]))];
    parts.push(section(0x74, map32(entries, entries.length * 2)));
  }
  parts.push(data(Buffer.from(m.body)));
  return Buffer.concat(parts);
}

/** The AMQP 1.0 messages a batch's records encode to. */
function entriesOf(batch: Buffer): Buffer[] {
  const encoder = new StreamEntryEncoder();
  const count = batch.readInt32BE(BatchField.recordCount);
  const reader = new VarintReader(batch, BatchField.records, batch.length);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const length = reader.varint();
    const start = reader.offset;
    const size = encoder.measure(batch, start, start + length);
    const entry = Buffer.alloc(size);
    expect(encoder.write(batch, entry, 0)).toBe(size);
    out.push(entry);
    reader.offset = start + length;
  }
  return out;
}

describe('the stream ↔ record mapping', () => {
  it('gives back every message as published (canonical AMQP 1.0 encodings)', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 20 }), (messages) => {
        const builder = new StreamBatchBuilder();
        const encoded = messages.map(encodeMessage);
        const frame = Buffer.concat(encoded);
        let at = 0;
        for (const e of encoded) {
          builder.add(frame, at, at + e.length);
          at += e.length;
        }
        const batch = builder.build(1_700_000_000_000);
        expect(validateRecordBatch(batch)).toBe(batch.length);
        expect(entriesOf(batch)).toEqual(encoded);
      }),
    );
  });

  it('keeps bytes that are not an AMQP 1.0 message as they are', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes) => {
        const input = Buffer.concat([Buffer.from([0xff]), Buffer.from(bytes)]); // 0xff never starts a section
        const builder = new StreamBatchBuilder();
        builder.add(input, 0, input.length);
        const batch = builder.build(0, { reference: Buffer.from('ref'), publishingId: 7n });
        expect(validateRecordBatch(batch)).toBe(batch.length);
        expect(entriesOf(batch)).toEqual([input]);
      }),
    );
  });

  it('reads any record bytes as a message or a typed error, quickly', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const buf = Buffer.from(bytes);
        const encoder = new StreamEntryEncoder();
        try {
          const size = encoder.measure(buf, 0, buf.length);
          const out = Buffer.alloc(size);
          expect(encoder.write(buf, out, 0)).toBe(size);
        } catch (err) {
          expect(err).toBeInstanceOf(BrokerError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('parses any message bytes without throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const buf = Buffer.from(bytes);
        const builder = new StreamBatchBuilder();
        builder.add(buf, 0, buf.length);
        const batch = builder.build(0);
        expect(validateRecordBatch(batch)).toBe(batch.length);
        entriesOf(batch);
      }),
      { numRuns: 2000 },
    );
  });
});
