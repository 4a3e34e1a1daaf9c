import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../errors.ts';
import { Compression, decompress } from './compression.ts';

const require = createRequire(import.meta.url);
const snappyjs = require('snappyjs') as { compress(b: Buffer): Buffer };
const lz4js = require('lz4js') as { compress(b: Uint8Array): Uint8Array };
const { ZstdCodec } = require('zstd-codec') as { ZstdCodec: { run(f: (z: { Simple: new () => { compress(b: Uint8Array): Uint8Array } }) => void): void } };
const zstd = await new Promise<{ compress(b: Uint8Array): Uint8Array }>((resolve) => ZstdCodec.run((z) => resolve(new z.Simple())));

/** Each codec as other clients' libraries write it. */
const compressors: Record<string, [number, (b: Buffer) => Buffer]> = {
  gzip: [Compression.gzip, (b) => gzipSync(b)],
  snappy: [Compression.snappy, (b) => Buffer.from(snappyjs.compress(b))],
  'snappy, snappy-java framing': [Compression.snappy, (b) => xerial([b.subarray(0, b.length >> 1), b.subarray(b.length >> 1)])],
  lz4: [Compression.lz4, (b) => Buffer.from(lz4js.compress(b))],
  zstd: [Compression.zstd, (b) => Buffer.from(zstd.compress(b))],
};

/** snappy-java's stream: magic, version, compatible version, then length-prefixed snappy blocks. */
function xerial(parts: Buffer[]): Buffer {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
  const blocks = parts.map((part) => {
    const block = Buffer.from(snappyjs.compress(part));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(block.length);
    return Buffer.concat([length, block]);
  });
  return Buffer.concat([header, ...blocks]);
}

const payloads = fc.oneof(
  fc.uint8Array({ maxLength: 5000 }).map((a) => Buffer.from(a)),
  fc.tuple(fc.string({ maxLength: 40 }), fc.nat(400)).map(([s, n]) => Buffer.from(s.repeat(n + 1))),
);

describe('decompression of batch records', () => {
  for (const [name, [codec, compress]] of Object.entries(compressors)) {
    it(`round-trips ${name} as its clients write it`, () => {
      fc.assert(
        fc.property(payloads, (payload) => {
          expect(decompress(codec, compress(payload)).equals(payload)).toBe(true);
        }),
        { numRuns: 150 },
      );
    });

    it(`refuses ${name} data that would decompress past the limit, and turns any corruption into CORRUPT_RECORD quickly`, () => {
      const valid = compress(Buffer.alloc(100_000, 'abc'));
      expect(() => decompress(codec, valid, 50_000)).toThrow(BrokerError);
      const mutated = fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(valid.length)).map(([at, byte, cut]) => {
        const copy = Buffer.from(valid);
        copy[at] = byte;
        return copy.subarray(0, cut);
      });
      fc.assert(
        fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))), (bytes) => {
          const started = performance.now();
          try {
            expect(decompress(codec, bytes).length).toBeLessThanOrEqual(64 * 1024 * 1024);
          } catch (err) {
            expect(BrokerError.is(err, 'CORRUPT_RECORD')).toBe(true);
          }
          expect(performance.now() - started).toBeLessThan(500);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('refuses codec ids Kafka does not define', () => {
    expect(() => decompress(5, Buffer.alloc(10))).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_COMPRESSION' }));
  });
});
