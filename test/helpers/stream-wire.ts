import { expect } from 'vitest';
import net from 'node:net';

/** A bare stream-protocol socket: write frames, read whole frames, see the close. */
export class StreamWire {
  private buffered = Buffer.alloc(0);
  private readonly waiting: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static async connect(port: number): Promise<StreamWire> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new StreamWire(socket);
  }

  private wake(): void {
    for (const w of this.waiting.splice(0)) w();
  }

  send(body: Buffer): void {
    this.sendTogether(body);
  }

  /** Frames in one socket write (a server reads them together). */
  sendTogether(...bodies: Buffer[]): void {
    const parts: Buffer[] = [];
    for (const body of bodies) {
      const size = Buffer.alloc(4);
      size.writeUInt32BE(body.length);
      parts.push(size, body);
    }
    this.socket.write(Buffer.concat(parts));
  }

  /** The next frame (without its size), or undefined once the server closed the connection. */
  async frame(timeoutMs = 10_000): Promise<Buffer | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buffered.length >= 4) {
        const size = this.buffered.readUInt32BE(0);
        if (this.buffered.length >= 4 + size) {
          const frame = this.buffered.subarray(4, 4 + size);
          this.buffered = this.buffered.subarray(4 + size);
          return frame;
        }
      }
      if (this.closed) return undefined;
      if (Date.now() > deadline) throw new Error('no frame in time');
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async untilClosed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Request bodies: key, version 1, correlation id, then fields. */
export function request(key: number, correlationId: number, ...fields: Buffer[]): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(key, 0);
  head.writeUInt16BE(1, 2);
  head.writeUInt32BE(correlationId, 4);
  return Buffer.concat([head, ...fields]);
}

export function str(text: string): Buffer {
  const b = Buffer.from(text);
  const out = Buffer.alloc(2 + b.length);
  out.writeUInt16BE(b.length);
  b.copy(out, 2);
  return out;
}

export function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

export function bytes(b: Buffer): Buffer {
  return Buffer.concat([int32(b.length), b]);
}

/** Response code of a response frame. */
export const codeOf = (frame: Buffer): number => frame.readUInt16BE(8);

/** PeerProperties, SaslHandshake and SaslAuthenticate(PLAIN user/password): the SaslAuthenticate answer's code, or undefined on close. */
export async function login(wire: StreamWire, user: string, password: string): Promise<number | undefined> {
  wire.send(request(0x11, 1, int32(0)));
  await wire.frame();
  wire.send(request(0x12, 2));
  await wire.frame();
  wire.send(request(0x13, 3, str('PLAIN'), bytes(Buffer.from(`\0${user}\0${password}`))));
  const answer = await wire.frame();
  return answer && codeOf(answer);
}

/** login, then the Tune exchange and Open(vhost): the Open answer's code. */
export async function open(wire: StreamWire, vhost = '/'): Promise<number | undefined> {
  expect(await login(wire, 'guest', 'guest')).toBe(1);
  const tune = await wire.frame();
  expect(tune!.readUInt16BE(0)).toBe(0x14);
  const reply = Buffer.alloc(12);
  reply.writeUInt16BE(0x14, 0);
  reply.writeUInt16BE(1, 2);
  reply.writeUInt32BE(tune!.readUInt32BE(4), 4);
  reply.writeUInt32BE(0, 8);
  wire.send(reply);
  wire.send(request(0x15, 4, str(vhost)));
  const answer = await wire.frame();
  return answer && codeOf(answer);
}
