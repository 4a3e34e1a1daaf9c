import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroker, type Broker } from '../core/index.ts';
import { kafka } from '../plugins/kafka/index.ts';
import { rabbit } from '../plugins/rabbit/index.ts';
import { PROTOCOL_HEADER } from '../plugins/rabbit/codec/index.ts';
import { memoryStorage } from '../plugins/storage-memory/index.ts';

let broker: Broker;
const port = (protocol: string) => broker.listeners().find((l) => l.protocol === protocol)!.port;

beforeAll(async () => {
  broker = await createBroker({
    plugins: [memoryStorage(), kafka(), rabbit()],
    config: {
      logLevel: 'error',
      host: '127.0.0.1',
      kafka: { port: 'auto', idleTimeoutMs: 400, stalledRequestTimeoutMs: 300 },
      amqp: { port: 'auto', handshakeTimeoutMs: 300 },
    },
  });
  await broker.start();
});
afterAll(() => broker.stop());

/** Connects, sends `bytes` now and `trickle` byte by byte every 100 ms; resolves with how long the server kept the connection. */
function heldFor(port: number, bytes: Buffer, trickle = 0): Promise<number> {
  return new Promise((resolve) => {
    const start = Date.now();
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(bytes));
    let sent = 0;
    const timer = setInterval(() => sent++ < trickle && !socket.destroyed && socket.write(Buffer.from([0])), 100);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearInterval(timer);
      resolve(Date.now() - start);
    });
  });
}

describe('listeners close connections that do not complete a handshake or go idle', () => {
  it('Kafka: an idle connection after connections.max.idle.ms, one stalled mid-request sooner, a trickling one not for stalling', async () => {
    const [idle, stalled, trickling] = await Promise.all([
      heldFor(port('kafka'), Buffer.alloc(0)),
      heldFor(port('kafka'), Buffer.from([0, 0, 1, 0, 0, 18])),
      heldFor(port('kafka'), Buffer.from([0, 0, 1, 0]), 6),
    ]);
    expect(idle).toBeGreaterThanOrEqual(350);
    expect(stalled).toBeLessThan(idle);
    expect(trickling).toBeGreaterThan(stalled + 200); // it kept sending: closed only after it stopped
  });

  it('AMQP: a connection that has not finished the handshake after amqp.handshakeTimeoutMs', async () => {
    expect(await heldFor(port('amqp'), Buffer.alloc(0))).toBeGreaterThanOrEqual(250);
    expect(await heldFor(port('amqp'), PROTOCOL_HEADER)).toBeLessThan(2000);
  });
});
