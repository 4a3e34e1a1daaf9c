import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStream, type StreamTestBroker } from '../helpers/stream.ts';
import { gzipSync } from 'node:zlib';
import { publishFrame, simpleEntry, subEntry } from '../helpers/stream-entries.ts';
import { int32, login, open, request, str, StreamWire } from '../helpers/stream-wire.ts';

let broker: StreamTestBroker;
beforeAll(async () => {
  broker = await startStream({ stream: { frameMax: 65536 } });
});
afterAll(() => broker.stop());

async function closeFrameCode(wire: StreamWire): Promise<number | undefined> {
  for (;;) {
    const frame = await wire.frame();
    if (!frame) return undefined;
    if (frame.readUInt16BE(0) === 0x16) return frame.readUInt16BE(8);
  }
}

describe('the stream listener and bad input', () => {
  it('closes a connection that announces a frame above the limit before Open, without reading it', async () => {
    const wire = await StreamWire.connect(broker.port);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(1_000_000_000);
    wire.socket.write(size);
    await wire.untilClosed();
  });

  it('after Open, answers a frame above the negotiated frame max with Close 0x0e (frame too large)', async () => {
    const wire = await StreamWire.connect(broker.port);
    expect(await open(wire)).toBe(1);
    wire.send(request(0x0f, 9, Buffer.alloc(70_000)));
    expect(await closeFrameCode(wire)).toBe(0x0e);
  });

  it('after Open, answers an unknown command with Close 0x0d (unknown frame)', async () => {
    const wire = await StreamWire.connect(broker.port);
    expect(await open(wire)).toBe(1);
    wire.send(request(0x7f, 9));
    expect(await closeFrameCode(wire)).toBe(0x0d);
  });

  it('answers any frame with a response or a close, and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 0x1f }), fc.uint8Array({ maxLength: 120 }), async (key, body) => {
        const wire = await StreamWire.connect(broker.port);
        try {
          expect(await open(wire)).toBe(1);
          const head = Buffer.alloc(4);
          head.writeUInt16BE(key, 0);
          head.writeUInt16BE(1, 2);
          wire.send(Buffer.concat([head, Buffer.from(body)]));
          // heartbeat: the server must still answer a request (or have closed the connection)
          wire.send(request(0x0f, 77, Buffer.from([0, 0, 0, 0])));
          for (;;) {
            const frame = await wire.frame(5000);
            if (!frame) break;
            if (frame.readUInt16BE(0) === 0x800f && frame.readUInt32BE(4) === 77) break;
          }
        } finally {
          wire.close();
        }
      }),
      { numRuns: 150 },
    );
    const wire = await StreamWire.connect(broker.port);
    expect(await login(wire, 'guest', 'guest')).toBe(1);
    wire.close();
  });
});

/** A connection with publisher 1 on a new stream `name`. */
async function publishing(name: string): Promise<StreamWire> {
  const wire = await StreamWire.connect(broker.port);
  expect(await open(wire)).toBe(1);
  wire.send(request(0x0d, 5, str(name), int32(0)));
  expect((await wire.frame())!.readUInt16BE(8)).toBe(1);
  wire.send(request(0x01, 6, Buffer.from([1]), str(''), str(name)));
  expect((await wire.frame())!.readUInt16BE(8)).toBe(1);
  return wire;
}

/** What the server answers a Publish with until it answers Metadata (it still serves): `confirm id` / `error id code` lines, or `closed`. */
async function outcome(wire: StreamWire): Promise<string[]> {
  wire.send(request(0x0f, 77, int32(0)));
  const seen: string[] = [];
  for (;;) {
    const frame = await wire.frame(5000);
    if (!frame) return [...seen, 'closed'];
    const key = frame.readUInt16BE(0);
    if (key === 0x800f) return seen.sort();
    if (key === 0x16) return [...seen, `close ${frame.readUInt16BE(8)}`];
    const n = frame.readInt32BE(5);
    for (let i = 0; i < n; i++) {
      if (key === 0x03) seen.push(`confirm ${frame.readBigUInt64BE(9 + i * 8)}`);
      if (key === 0x04) seen.push(`error ${frame.readBigUInt64BE(9 + i * 10)} ${frame.readUInt16BE(17 + i * 10)}`);
    }
  }
}

describe('bad sub-entries', () => {
  const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));
  const cases: Array<[string, Buffer]> = [
    ['no messages', subEntry(2, 0, ['a'], { count: 0 })],
    ['more messages than the uncompressed size holds', subEntry(2, 1, ['a'], { count: 100, uncompressed: 20 })],
    ['an unknown compression type', subEntry(2, 0, ['a'], { typeByte: 0x80 | (5 << 4) })],
    ['snappy, which Wharf does not read', subEntry(2, 2, ['a'], { typeByte: 0x80 | (2 << 4), data: Buffer.from('not really snappy') })],
    ['an uncompressed size above 64 MiB', subEntry(2, 1, ['a'], { uncompressed: 64 * 1024 * 1024 + 1 })],
    ['data that is not gzip', subEntry(2, 1, ['a', 'b'], { data: Buffer.from('definitely not gzip') })],
    ['empty compressed data', subEntry(2, 1, ['a'], { data: Buffer.alloc(0) })],
    ['gzip that inflates past its declared size (a bomb)', subEntry(2, 1, ['a'], { data: bomb, uncompressed: 1024 })],
    ['gzip that inflates to less than declared', subEntry(2, 1, ['a', 'b'], { uncompressed: 200 })],
    ['fewer messages than counted', subEntry(2, 0, ['a', 'b'], { count: 3 })],
    ['a message size past the data', subEntry(2, 0, [], { count: 1, uncompressed: 8, data: Buffer.from([0, 0, 0x10, 0, 1, 2, 3, 4]) })],
  ];
  it.each(cases)('refuses %s with PublishError 0x11 for it and the rest of its frame, stores what came before, and serves on', async (_name, bad) => {
    const wire = await publishing(`bad-${Math.random().toString(36).slice(2)}`);
    try {
      wire.send(publishFrame(1, [simpleEntry(1, 'kept'), bad, simpleEntry(3, 'after')]));
      expect(await outcome(wire)).toEqual(['confirm 1', 'error 2 17', 'error 3 17']);
      wire.send(publishFrame(1, [subEntry(4, 1, ['fine', 'too'])]));
      expect(await outcome(wire)).toEqual(['confirm 4']);
    } finally {
      wire.close();
    }
  });

  it('answers a sub-entry of an unknown publisher with PublishError 0x12 (publisher does not exist), as a message', async () => {
    const wire = await publishing('bad-publisher');
    try {
      wire.send(publishFrame(7, [simpleEntry(1, 'a'), subEntry(2, 1, ['b', 'c']), simpleEntry(3, 'd')]));
      expect(await outcome(wire)).toEqual(['error 1 18', 'error 2 18', 'error 3 18']);
    } finally {
      wire.close();
    }
  });

  it('closes the connection on a sub-entry running past its frame, and on one in Publish v2 (RabbitMQ parses them in v1 only)', async () => {
    const past = await publishing('bad-past');
    past.send(publishFrame(1, [subEntry(2, 0, ['a'], { dataLength: 1000 })]));
    expect(await outcome(past)).toEqual(['close 13']);
    past.close();
    const v2 = await publishing('bad-v2');
    const entry = subEntry(2, 0, ['a']);
    v2.send(publishFrame(1, [Buffer.concat([entry.subarray(0, 8), Buffer.from([0xff, 0xff]), entry.subarray(8)])], 2));
    expect(await outcome(v2)).toEqual(['close 13']);
    v2.close();
  });

  it('answers any sub-entry with a confirm, a PublishError or a close, and keeps serving', async () => {
    const wire0 = await publishing('fuzzed');
    wire0.close();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0x80, max: 0xff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 0xffffffff })),
        fc.oneof(fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }).map((bodies) => gzipSync(Buffer.concat(bodies.map((b) => Buffer.concat([int32(Buffer.byteLength(b) + 5), Buffer.from([0x00, 0x53, 0x75, 0xa0, Buffer.byteLength(b)]), Buffer.from(b)])))))),
        async (typeByte, count, uncompressed, data) => {
          const wire = await StreamWire.connect(broker.port);
          try {
            expect(await open(wire)).toBe(1);
            wire.send(request(0x01, 6, Buffer.from([1]), str(''), str('fuzzed')));
            await wire.frame();
            wire.send(publishFrame(1, [subEntry(9, 0, [], { typeByte, count, uncompressed, data })]));
            const answer = await outcome(wire);
            expect(answer.length).toBeGreaterThan(0);
            expect(answer[0]).toMatch(/^(confirm 9|error 9 17|close 13|closed)$/);
          } finally {
            wire.close();
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
