import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../errors.ts';
import { LengthPrefixedFrames } from './length-prefixed-frames.ts';
import { RequestMemory } from './request-memory.ts';

function framed(payloads: Buffer[]): Buffer {
  return Buffer.concat(payloads.flatMap((p) => [Buffer.from([p.length >>> 24, (p.length >>> 16) & 255, (p.length >>> 8) & 255, p.length & 255]), p]));
}

describe('LengthPrefixedFrames', () => {
  it('reassembles frames however the stream is chunked', () => {
    const payload = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 4000, maxLength: 12_000 }));
    const cut = fc.oneof(fc.nat(400), fc.nat(13_000));
    fc.assert(
      fc.property(fc.array(payload, { maxLength: 10 }), fc.array(cut, { maxLength: 20 }), (arrays, cuts) => {
        const payloads = arrays.map((a) => Buffer.from(a));
        const stream = framed(payloads);
        const memory = new RequestMemory(1 << 20);
        const frames = new LengthPrefixedFrames(20_000, memory);
        const out: Buffer[] = [];
        let pos = 0;
        for (const cut of cuts) {
          const end = Math.min(stream.length, pos + cut);
          out.push(...frames.push(stream.subarray(pos, end)));
          pos = end;
        }
        out.push(...frames.push(stream.subarray(pos)));
        expect(out).toEqual(payloads);
        expect(frames.buffered).toBe(0);
        expect(memory.bytes).toBe(out.reduce((n, f) => n + f.length, 0)); // every frame handed out is charged until released
        for (const frame of out) memory.release(frame.length);
        expect(memory.bytes).toBe(0);
      }),
    );
  });

  it('rejects an absurd size before allocating anything', () => {
    const frames = new LengthPrefixedFrames(100 * 1024 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => frames.push(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2]))).toThrow(BrokerError);
    expect(() => new LengthPrefixedFrames(10).push(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toThrow(/negative/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });

  it('holds memory for the bytes that arrived, not for the size a frame declares', () => {
    const memory = new RequestMemory(1 << 30);
    const frames = new LengthPrefixedFrames(100 * 1024 * 1024, memory);
    const before = process.memoryUsage().arrayBuffers;
    frames.push(Buffer.from([0x06, 0x3f, 0xff, 0xff, 1])); // declares 100 MiB, sends 1 byte
    for (let i = 0; i < 1000; i++) frames.push(Buffer.from([i & 0xff]));
    expect(frames.buffered).toBe(1001);
    expect(memory.bytes).toBe(1001);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024);
    frames.push(Buffer.alloc(64 * 1024, 7));
    expect(memory.bytes).toBe(frames.buffered);
    frames.dispose();
    expect(memory.bytes).toBe(0);
  });
});
