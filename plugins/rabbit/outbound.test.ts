import fc from 'fast-check';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Outbound } from './outbound.ts';

type Step = { kind: 'add'; bytes: number } | { kind: 'room'; bytes: number } | { kind: 'tick' } | { kind: 'release' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), bytes: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1000, max: 70_000 })) }),
  fc.record({ kind: fc.constant('room' as const), bytes: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 60_000, max: 140_000 })) }),
  fc.constant({ kind: 'tick' as const }),
  fc.constant({ kind: 'release' as const }),
);

let server: net.Server;
let port: number;
const received = new Map<number, Promise<Buffer>>();
let connections = 0;

beforeAll(async () => {
  server = net.createServer((socket) => {
    const chunks: Buffer[] = [];
    received.set(connections++, new Promise((resolve) => socket.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks)))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Distinct bytes per piece, so a misplaced or uninitialised byte shows. */
function piece(index: number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (index * 31 + i) & 0xff;
  return bytes;
}

describe('Outbound', () => {
  it('delivers exactly the bytes added and written into its room, in order, across slabs, early flushes, turns and releases', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const id = connections;
        const socket = net.connect(port, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        const out = new Outbound(socket);
        const expected: Buffer[] = [];
        for (const [index, s] of steps.entries()) {
          if (s.kind === 'tick') {
            await new Promise((resolve) => setImmediate(resolve));
            continue;
          }
          if (s.kind === 'release') {
            out.release();
            continue;
          }
          const bytes = piece(index, s.bytes);
          expected.push(bytes);
          if (s.kind === 'add') out.add(bytes);
          else {
            const slab = out.room(bytes.length);
            out.pos += bytes.copy(slab, out.pos);
          }
        }
        out.flush();
        socket.end();
        while (!received.has(id)) await new Promise((resolve) => setImmediate(resolve));
        expect((await received.get(id)!).equals(Buffer.concat(expected))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
