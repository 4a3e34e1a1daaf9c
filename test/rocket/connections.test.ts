import http2 from 'node:http2';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { producerFor, startRocket, type RocketTestBroker } from '../helpers/rocket.ts';

const HANDSHAKE_MS = 300;
const IDLE_MS = 800;
const KEEPALIVE_MS = 1200;
const KEEPALIVE_TIMEOUT_MS = 300;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const EMPTY_SETTINGS = frame(0, 4, 0, 0);
const PING = 6;
const GOAWAY = 7;
const SETTINGS_ACK = frame(0, 4, 1, 0);

/** A HEADERS frame opening stream 1 for `path` (HPACK literals, no Huffman, no indexing). */
function openStream(path: string, headers: Record<string, string>): Buffer {
  const literal = (name: string, value: string) => Buffer.concat([Buffer.from([0, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
  const all = { ':method': 'POST', ':scheme': 'http', ':path': path, ':authority': 'wharf', 'content-type': 'application/grpc', te: 'trailers', ...headers };
  const block = Buffer.concat(Object.entries(all).map(([name, value]) => literal(name, value)));
  return Buffer.concat([frame(block.length, 1, 4, 1), block]);
}

/** An HTTP/2 frame header: length, type, flags, stream id. */
function frame(length: number, type: number, flags: number, stream: number): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(stream, 5);
  return header;
}

/** A raw socket that sends `bytes`, records what comes back, and never closes its side unless the server does. */
function rawClient(port: number, bytes: Buffer[], options: { allowHalfOpen?: boolean } = {}) {
  const received: Buffer[] = [];
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: options.allowHalfOpen ?? false }, () => {
    for (const b of bytes) socket.write(b);
  });
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', () => undefined);
  const start = Date.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - start)));
  const ended = new Promise<number>((resolve) => socket.once('end', () => resolve(Date.now() - start)));
  return { socket, received: () => Buffer.concat(received), closed, ended };
}

/** Frame types the server sent, in order (the first frame after the preface exchange included). */
function frameTypes(bytes: Buffer): number[] {
  const types: number[] = [];
  for (let at = 0; at + 9 <= bytes.length; at += 9 + bytes.readUIntBE(at, 3)) types.push(bytes[at + 3]!);
  return types;
}

const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms))]);

let broker: RocketTestBroker;
beforeAll(async () => {
  broker = await startRocket({ rocket: { handshakeTimeoutMs: HANDSHAKE_MS, idleTimeoutMs: IDLE_MS, keepaliveTimeMs: KEEPALIVE_MS, keepaliveTimeoutMs: KEEPALIVE_TIMEOUT_MS } });
});
afterAll(() => broker.stop());

describe('the gRPC port closes connections that do not complete a handshake or go idle', () => {
  it('closes a silent connection and a truncated HTTP/2 preface after the handshake timeout, and garbage at once', async () => {
    const silent = rawClient(broker.port, []);
    const truncated = rawClient(broker.port, [PREFACE.subarray(0, 10)]);
    const garbage = rawClient(broker.port, [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
    expect(await within(garbage.closed, HANDSHAKE_MS, 'garbage closed')).toBeLessThan(HANDSHAKE_MS);
    expect(await within(silent.closed, HANDSHAKE_MS + 2000, 'silent closed')).toBeGreaterThanOrEqual(HANDSHAKE_MS - 50);
    await within(truncated.closed, HANDSHAKE_MS + 2000, 'truncated closed');
  });

  it('closes an HTTP/2 session with no call for the idle timeout (GOAWAY, then the socket)', async () => {
    const session = http2.connect(`http://127.0.0.1:${broker.port}`);
    session.on('error', () => undefined);
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    expect(await within(goaway, IDLE_MS + 2000, 'GOAWAY')).toBe(http2.constants.NGHTTP2_NO_ERROR);
    await within(closed, 2000, 'session closed');
  });

  it('drops a connection that got GOAWAY (an oversized frame, or idle) but never closes its side', async () => {
    const oversized = rawClient(broker.port, [PREFACE, EMPTY_SETTINGS, frame(1 << 20, 1, 4, 1)], { allowHalfOpen: true });
    const idle = rawClient(broker.port, [PREFACE, EMPTY_SETTINGS, SETTINGS_ACK], { allowHalfOpen: true });
    for (const client of [oversized, idle]) {
      await within(client.ended, IDLE_MS + 2000, 'the server closing its side');
      expect(frameTypes(client.received())).toContain(GOAWAY);
    }
    // Neither client closes; its writes fail once the server has let go of the socket.
    const probe = setInterval(() => {
      for (const client of [oversized, idle]) if (!client.socket.destroyed) client.socket.write(EMPTY_SETTINGS);
    }, 200);
    try {
      await within(Promise.all([oversized.closed, idle.closed]), 8000, 'the server dropping the half-open sockets');
    } finally {
      clearInterval(probe);
    }
  });

  it('drops a peer that stops answering pings while a call is open (keepalive)', async () => {
    const telemetry = openStream('/apache.rocketmq.v2.MessagingService/Telemetry', { 'x-mq-client-id': 'vanished' });
    const dead = rawClient(broker.port, [PREFACE, EMPTY_SETTINGS, SETTINGS_ACK, telemetry]);
    const closedAfter = await within(dead.closed, KEEPALIVE_MS + KEEPALIVE_TIMEOUT_MS + 2000, 'the keepalive closing the connection');
    expect(closedAfter).toBeGreaterThanOrEqual(KEEPALIVE_MS); // the open call kept it from being idle
    expect(frameTypes(dead.received())).toContain(PING);
  });

  it('keeps serving a real client across idle timeouts and keepalive pings', async () => {
    const producer = await producerFor(broker);
    try {
      await producer.send({ topic: 'kept', body: Buffer.from('one') } as never);
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 2));
      await producer.send({ topic: 'kept', body: Buffer.from('two') } as never);
    } finally {
      await producer.shutdown();
    }
  });
});
