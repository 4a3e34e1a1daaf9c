import fc from 'fast-check';
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroker, TOKENS, type Broker, type ConnectionBudget } from '../../core/index.ts';
import { kafka } from '../../plugins/kafka/index.ts';
import { rabbit } from '../../plugins/rabbit/index.ts';
import { rocket } from '../../plugins/rocket/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';
import { eventually } from '../helpers/kafka.ts';
import { hasProgram } from '../helpers/programs.ts';
import { makeTestCertificates, tlsFlags, type TestCertificates } from '../helpers/tls.ts';

const HANDSHAKE_TIMEOUT_MS = 500;

/** The first bytes Node's TLS client sends: a real ClientHello to mutate. */
async function recordClientHello(): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hello = new Promise<Buffer>((resolve) => server.once('connection', (socket) => socket.once('data', (chunk: Buffer) => (resolve(chunk), socket.destroy()))));
  const client = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, servername: 'localhost', rejectUnauthorized: false });
  client.on('error', () => {});
  const bytes = await hello;
  client.destroy();
  server.close();
  return bytes;
}

/** Sends `bytes` and waits until the broker closes the connection or a short while passes; true if the broker closed it. */
function sendRaw(port: number, bytes: Buffer, waitMs = 100): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('error', () => {});
    socket.on('data', () => {});
    const timer = setTimeout(() => (socket.destroy(), resolve(false)), waitMs);
    socket.once('close', () => (clearTimeout(timer), resolve(true)));
  });
}

describe.skipIf(!hasProgram('openssl', 'the hostile TLS handshake tests'))('hostile TLS handshakes on every TLS port', () => {
  let certs: TestCertificates;
  let broker: Broker;
  let hello: Buffer;
  const port = (protocol: string) => broker.listeners().find((l) => l.protocol === protocol)!.port;
  beforeAll(async () => {
    certs = await makeTestCertificates();
    hello = await recordClientHello();
    broker = await createBroker({
      plugins: [memoryStorage(), kafka(), rabbit(), rocket()],
      config: {
        logLevel: 'silent',
        host: '127.0.0.1',
        tls: { ...tlsFlags(certs, 'request'), handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS },
        kafka: { port: 'auto', tlsPort: 'auto' },
        amqp: { port: 'auto', tlsPort: 'auto' },
        rocket: { port: 'auto' },
        topics: { flush: 'never' },
      },
    });
    await broker.start();
  });
  afterAll(async () => {
    await broker?.stop();
    certs?.remove();
  });

  const mutatedHello = () =>
    fc.oneof(
      fc.tuple(fc.array(fc.tuple(fc.nat(hello.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: hello.length })).map(([flips, length]) => {
        const bytes = Buffer.from(hello.subarray(0, length));
        for (const [at, byte] of flips) if (at < length) bytes[at] = byte;
        return bytes;
      }),
      fc.uint8Array({ minLength: 0, maxLength: 600 }).map((tail) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), tail])),
      fc.uint8Array({ minLength: 0, maxLength: 64 }).map((tail) => Buffer.concat([Buffer.from([0x16, 0x03, 0x03, 0xff, 0xff]), tail])),
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    );

  it('mutated and random ClientHellos never crash the broker nor leak connections; real clients are served afterwards', async () => {
    for (const protocol of ['kafka-tls', 'amqp-tls', 'rocketmq']) {
      await fc.assert(fc.asyncProperty(mutatedHello(), async (bytes) => void (await sendRaw(port(protocol), bytes))), { numRuns: 60 });
    }
    const budget = broker.get<ConnectionBudget>(TOKENS.ConnectionBudget);
    await eventually(() => budget.inUse === 0, HANDSHAKE_TIMEOUT_MS * 10, 'every fuzzing connection closed');

    const client = new Kafka({ brokers: [`localhost:${port('kafka-tls')}`], ssl: { ca: [certs.ca.cert] }, logLevel: logLevel.NOTHING, retry: { retries: 1 } });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'after-fuzz' }] });
    expect(await admin.listTopics()).toContain('after-fuzz');
    await admin.disconnect();
    const connection = await amqp.connect({ protocol: 'amqps', hostname: 'localhost', port: port('amqp-tls'), username: 'guest', password: 'guest' }, { ca: [certs.ca.cert] });
    await connection.close();
  });

  it('a handshake that stalls, or a connection that sends nothing to the TLS-detecting port, is closed after the handshake timeout', async () => {
    for (const protocol of ['kafka-tls', 'amqp-tls', 'rocketmq']) {
      const started = Date.now();
      expect(await sendRaw(port(protocol), hello.subarray(0, 20), HANDSHAKE_TIMEOUT_MS * 8)).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 50);
    }
    expect(await sendRaw(port('rocketmq'), Buffer.alloc(0), HANDSHAKE_TIMEOUT_MS * 8)).toBe(true);
  });
});
