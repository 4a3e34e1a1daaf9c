import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStream, type StreamTestBroker } from '../helpers/stream.ts';
import { login, open, request, StreamWire } from '../helpers/stream-wire.ts';

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
