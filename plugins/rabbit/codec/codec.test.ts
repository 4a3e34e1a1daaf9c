import fc from 'fast-check';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../../../core/index.ts';
import { AmqpWriter } from './amqp-writer.ts';
import { decodeTable, tableSize, writeTable, type FieldTable, type FieldValue } from './field-table.ts';
import { contentFrames, FrameParser, FrameType, methodFrame, parseContentHeader, PROTOCOL_HEADER, type Frame } from './frames.ts';
import { decodeMethod, decodeProperties, encodeProperties, METHOD_FIELDS, METHOD_IDS, PROPERTY_FIELDS, type BasicProperties, type MethodName } from './generated/methods.ts';

/** CPU milliseconds this process has used; unlike wall-clock time it does not grow while a busy machine runs other processes. */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const require = createRequire(import.meta.url);
/** amqplib 2.x hides lib/* behind package exports; require its codec by file path. */
const amqplibLib = path.join(path.dirname(require.resolve('amqplib')), 'lib');
const defs = require(path.join(amqplibLib, 'defs.js')) as {
  encodeMethod(id: number, channel: number, fields: unknown): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: unknown): Buffer;
  decode(id: number, buf: Buffer): Record<string, unknown>;
  info(id: number): { name: string; args: Array<{ name: string; type: string }> };
};
const codec = require(path.join(amqplibLib, 'codec.js')) as { encodeTable(buf: Buffer, val: unknown, offset: number): number; decodeFields(buf: Buffer): Record<string, unknown> };

const shortstr = fc.string({ maxLength: 20 });
const bytes = fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a));

const fieldValue: fc.Arbitrary<FieldValue> = fc.letrec<{ value: FieldValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.boolean().map((value) => ({ type: 't' as const, value })),
    fc.integer({ min: -128, max: 127 }).map((value) => ({ type: 'b' as const, value })),
    fc.integer({ min: 0, max: 255 }).map((value) => ({ type: 'B' as const, value })),
    fc.integer({ min: -32768, max: 32767 }).map((value) => ({ type: 's' as const, value })),
    fc.integer({ min: 0, max: 65535 }).map((value) => ({ type: 'u' as const, value })),
    fc.integer().map((value) => ({ type: 'I' as const, value })),
    fc.integer({ min: 0, max: 0xffffffff }).map((value) => ({ type: 'i' as const, value })),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => ({ type: 'l' as const, value })),
    fc.bigInt({ min: 0n, max: 2n ** 40n }).map((value) => ({ type: 'T' as const, value })),
    fc.double({ noNaN: true }).map((value) => ({ type: 'd' as const, value })),
    fc.float({ noNaN: true }).map((value) => ({ type: 'f' as const, value: Math.fround(value) })),
    fc.record({ scale: fc.integer({ min: 0, max: 255 }), digits: fc.integer({ min: 0, max: 0xffffffff }) }).map((value) => ({ type: 'D' as const, value })),
    bytes.map((value) => ({ type: 'S' as const, value })),
    bytes.map((value) => ({ type: 'x' as const, value })),
    fc.constant({ type: 'V' as const, value: null }),
    fc.array(tie('value'), { maxLength: 3 }).map((value) => ({ type: 'A' as const, value })),
    fc.array(fc.tuple(shortstr, tie('value')), { maxLength: 3 }).map((entries) => ({ type: 'F' as const, value: new Map(entries) })),
  ),
})).value;
const fieldTable: fc.Arbitrary<FieldTable> = fc.array(fc.tuple(shortstr, fieldValue), { maxLength: 6 }).map((entries) => new Map(entries));

function encodeTableBytes(table: FieldTable): Buffer {
  const buf = Buffer.alloc(tableSize(table));
  expect(writeTable(buf, 0, table)).toBe(buf.length);
  return buf;
}

/** The plain JS amqplib would see for a typed value. */
function plain(v: FieldValue): unknown {
  switch (v.type) {
    case 'S':
      return v.value.toString('utf8');
    case 'l':
      return Number(v.value);
    case 'T':
      return { '!': 'timestamp', value: Number(v.value) };
    case 'A':
      return v.value.map(plain);
    case 'F':
      return Object.fromEntries([...v.value].map(([k, e]) => [k, plain(e)]));
    case 'D':
      return { '!': 'decimal', value: { places: v.value.scale, digits: v.value.digits } };
    default:
      return v.value;
  }
}

const argument = (type: string): fc.Arbitrary<unknown> => {
  switch (type) {
    case 'bit':
      return fc.boolean();
    case 'octet':
      return fc.integer({ min: 0, max: 255 });
    case 'short':
      return fc.integer({ min: 0, max: 65535 });
    case 'long':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 'longlong':
    case 'timestamp':
      return fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
    case 'shortstr':
      return shortstr.filter((s) => Buffer.byteLength(s) <= 255);
    case 'longstr':
      return bytes;
    case 'table':
      return fieldTable;
    default:
      throw new Error(type);
  }
};

const methodArb = fc.constantFrom(...(Object.keys(METHOD_IDS) as MethodName[])).chain((name) =>
  fc.record(Object.fromEntries(METHOD_FIELDS[name].map(([f, t]) => [f, argument(t)]))).map((args) => ({ name, args })),
);

/** A parser whose frames are collected into `frames`. */
function collectingParser(frameMax = 131072): { parser: FrameParser; frames: Frame[] } {
  const frames: Frame[] = [];
  return { parser: new FrameParser(frameMax, (type, channel, payload) => frames.push({ type, channel, payload })), frames };
}

function parseAll(bytes: Buffer, frameMax = 131072): Frame[] {
  const { parser, frames } = collectingParser(frameMax);
  parser.push(bytes);
  return frames;
}

describe('AMQP codec', () => {
  it('round-trips every method through a frame', () => {
    fc.assert(
      fc.property(methodArb, fc.integer({ min: 0, max: 2047 }), ({ name, args }, channel) => {
        const frames = parseAll(methodFrame(channel, name, args as never));
        expect(frames).toHaveLength(1);
        expect(frames[0]!.channel).toBe(channel);
        expect(decodeMethod(frames[0]!.payload)).toEqual({ name, args });
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips field tables with every type, and basic properties', () => {
    fc.assert(
      fc.property(fieldTable, (table) => {
        expect(decodeTable(encodeTableBytes(table), 0, tableSize(table))).toEqual(table);
      }),
    );
    const propertyArb = fc.record(Object.fromEntries(PROPERTY_FIELDS.map(([f, t]) => [f, argument(t)])), { requiredKeys: [] }) as fc.Arbitrary<BasicProperties>;
    fc.assert(
      fc.property(propertyArb, (properties) => {
        const w = new AmqpWriter();
        encodeProperties(w, properties);
        expect(decodeProperties(w.buf, 0, w.pos)).toEqual(properties);
      }),
    );
  });

  it('agrees with amqplib: its encoded methods decode here, ours decode there', () => {
    fc.assert(
      fc.property(methodArb, ({ name, args }) => {
        if (Object.values(args).some((a) => a instanceof Map)) return;
        const [classId, methodId] = METHOD_IDS[name];
        const id = classId * 65536 + methodId;
        const theirs = defs.encodeMethod(id, 1, args);
        const [frame] = parseAll(theirs);
        expect(decodeMethod(frame!.payload)).toEqual({ name, args });
        const ours = parseAll(methodFrame(1, name, args as never))[0]!;
        const decoded = defs.decode(id, ours.payload.subarray(4));
        for (const [field, type] of METHOD_FIELDS[name]) {
          const expected = (args as Record<string, unknown>)[field as string];
          expect(decoded[field as string], `${name}.${String(field)}`).toEqual(type === 'longstr' ? expected : expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with amqplib on field tables and on all 14 properties', () => {
    const sample = { s: 'text', n: 42, big: 2 ** 40, neg: -7, f: 1.5, t: true, b: Buffer.from([1, 2]), arr: [1, 'two', false], nested: { deep: { x: 'y' } }, nil: null, long: { '!': 'long', value: 5 } };
    const buf = Buffer.alloc(1024);
    const length = codec.encodeTable(buf, sample, 0);
    const table = decodeTable(buf, 4, length);
    const back = Object.fromEntries([...table].map(([k, v]) => [k, plain(v)]));
    expect(back).toMatchObject({ s: 'text', n: 42, big: 2 ** 40, neg: -7, f: 1.5, t: true, b: Buffer.from([1, 2]), arr: [1, 'two', false], nested: { deep: { x: 'y' } }, nil: null, long: 5 });
    // amqplib decodes a table into a plain object, where a `__proto__` key cannot be compared as an own field.
    const comparableTable = fieldTable.filter((t) => !t.has('__proto__'));
    fc.assert(
      fc.property(comparableTable, (t) => {
        const ours = encodeTableBytes(t);
        const withSize = Buffer.concat([Buffer.from([0, 0, 0, 0]), ours]);
        withSize.writeUInt32BE(ours.length, 0);
        const theirs = codec.decodeFields(ours);
        const expected = Object.fromEntries([...t].map(([k, v]) => [k, plain(v)]));
        for (const [k, v] of Object.entries(expected)) if (typeof v !== 'object' || v === null || Array.isArray(v)) expect(theirs[k], k).toEqual(v);
        expect(withSize.length).toBe(ours.length + 4);
      }),
      { numRuns: 200 },
    );
    const properties = {
      contentType: 'application/json',
      contentEncoding: 'gzip',
      headers: { h: 'v', n: 3 },
      deliveryMode: 2,
      priority: 7,
      correlationId: 'c',
      replyTo: 'r',
      expiration: '60000',
      messageId: 'm',
      timestamp: 1_700_000_000,
      type: 't',
      userId: 'guest',
      appId: 'a',
      clusterId: 'x',
    };
    const header = parseAll(defs.encodeProperties(60, 1, 12, properties))[0]!;
    expect(header.type).toBe(FrameType.header);
    const content = parseContentHeader(header.payload);
    expect(content.bodySize).toBe(12);
    const decoded = decodeProperties(content.properties, 0, content.properties.length);
    expect({ ...decoded, headers: Object.fromEntries([...decoded.headers!].map(([k, v]) => [k, plain(v)])) }).toEqual(properties);
  });

  it('splits bodies into frame_max pieces as views of the body', () => {
    const body = Buffer.alloc(10_000, 7);
    const w = new AmqpWriter();
    encodeProperties(w, { deliveryMode: 2 });
    const chunks = contentFrames(3, 'basic.deliver', { consumerTag: 'ct', deliveryTag: 9, redelivered: true, exchange: 'ex', routingKey: 'rk' }, w.buf.subarray(0, w.pos), body, 4096);
    expect(chunks.some((c) => c.buffer === body.buffer)).toBe(true);
    const frames = parseAll(Buffer.concat(chunks), 4096);
    expect(frames.map((f) => f.type)).toEqual([1, 2, 3, 3, 3]);
    expect(decodeMethod(frames[0]!.payload)).toMatchObject({ name: 'basic.deliver', args: { deliveryTag: 9, redelivered: true } });
    expect(parseContentHeader(frames[1]!.payload).bodySize).toBe(10_000);
    expect(Buffer.concat(frames.slice(2).map((f) => f.payload)).equals(body)).toBe(true);
  });

  it('reassembles frames however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(methodArb, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 30 }), (methods, cuts) => {
        const stream = Buffer.concat(methods.map(({ name, args }) => methodFrame(1, name, args as never)));
        const { parser, frames } = collectingParser();
        let at = 0;
        for (const cut of cuts) {
          parser.push(stream.subarray(at, Math.min(stream.length, at + cut)));
          at = Math.min(stream.length, at + cut);
        }
        parser.push(stream.subarray(at));
        expect(frames.map((f) => decodeMethod(f.payload))).toEqual(methods);
      }),
      { numRuns: 300 },
    );
  });

  it('turns any bytes, and corruptions of valid frames, into frames or typed errors, quickly, without big allocations', () => {
    const valid = Buffer.concat([methodFrame(1, 'basic.publish', { ticket: 0, exchange: 'ex', routingKey: 'rk', mandatory: true, immediate: false }), methodFrame(2, 'queue.declare', { ticket: 0, queue: 'q', passive: false, durable: true, exclusive: false, autoDelete: false, nowait: false, arguments: new Map([['x-max-length', { type: 'I', value: 5 }]]) })]);
    const mutated = fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(valid.length)).map(([at, byte, cut]) => {
      const copy = Buffer.from(valid);
      copy[at] = byte;
      return copy.subarray(0, cut);
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), mutated), (input) => {
        const started = cpuMs();
        try {
          new FrameParser(4096, (type, _channel, payload) => {
            if (type === FrameType.method) decodeMethod(payload);
          }).push(input);
        } catch (err) {
          expect(err).toBeInstanceOf(BrokerError);
        }
        expect(cpuMs() - started).toBeLessThan(50);
      }),
      { numRuns: 5000 },
    );
    expect(() => collectingParser().parser.push(Buffer.from([1, 0, 1, 0x7f, 0xff, 0xff, 0xff]))).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }));
    expect(PROTOCOL_HEADER.toString('latin1')).toBe('AMQP\u0000\u0000\u0009\u0001');
  });
});
