import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBroker } from '../../core/index.ts';
import { rocket } from '../../plugins/rocket/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';
import { hasProgram } from '../helpers/programs.ts';
import { producerFor, quietLogger, receiveAll, SimpleConsumer, type RocketTestBroker } from '../helpers/rocket.ts';
import { makeTestCertificates, tlsFlags, type TestCertificates } from '../helpers/tls.ts';

// rocketmq-client-nodejs has no CA option: grpc-js trusts the file this names, a path it reads when it loads.
const trustedCa = vi.hoisted(() => {
  const file = `${process.env.TMPDIR ?? '/tmp'}/wharf-rocket-tls-ca-${process.pid}.pem`;
  process.env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH = file;
  return file;
});

const haveOpenssl = hasProgram('openssl', 'the RocketMQ TLS tests');

describe.skipIf(!haveOpenssl)('RocketMQ gRPC over TLS on the gRPC port (rocketmq-client-nodejs, sslEnabled)', () => {
  let certs: TestCertificates;
  const brokers: RocketTestBroker[] = [];
  /** The endpoint is `localhost`: the client checks the server certificate's name. */
  const start = async (tlsMode: string): Promise<RocketTestBroker> => {
    const broker = await createBroker({
      plugins: [memoryStorage(), rocket()],
      config: { logLevel: 'error', host: '127.0.0.1', tls: tlsFlags(certs), rocket: { port: 'auto', tlsMode }, topics: { flush: 'never' } },
    });
    await broker.start();
    const port = broker.listeners().find((l) => l.protocol === 'rocketmq')!.port;
    const started = { broker, port, endpoints: `localhost:${port}`, stop: () => broker.stop() };
    brokers.push(started);
    return started;
  };
  beforeAll(async () => {
    certs = await makeTestCertificates();
    fs.copyFileSync(certs.ca.certFile, trustedCa);
  });
  afterAll(async () => {
    for (const broker of brokers) await broker.stop();
    certs?.remove();
    fs.rmSync(trustedCa, { force: true });
  });

  const receive = async (broker: RocketTestBroker, topic: string, group: string, sslEnabled: boolean, count: number): Promise<string[]> => {
    const consumer = new SimpleConsumer({ endpoints: broker.endpoints, namespace: '', logger: quietLogger, sslEnabled, consumerGroup: group, subscriptions: new Map([[topic, '*']]), awaitDuration: 500 } as never);
    await consumer.startup();
    const got = await receiveAll(consumer, count);
    for (const message of got) await consumer.ack(message);
    await consumer.shutdown();
    return got.map((m) => m.body.toString()).sort();
  };

  it('permissive (the default): TLS and plaintext clients share the port', async () => {
    const broker = await start('permissive');
    const tlsProducer = await producerFor(broker, { sslEnabled: true });
    const plainProducer = await producerFor(broker);
    for (let i = 0; i < 5; i++) await tlsProducer.send({ topic: 'secured', body: Buffer.from(`tls-${i}`) });
    await plainProducer.send({ topic: 'secured', body: Buffer.from('plain') });
    await tlsProducer.shutdown();
    await plainProducer.shutdown();
    expect(await receive(broker, 'secured', 'g-over-tls', true, 6)).toEqual(['plain', 'tls-0', 'tls-1', 'tls-2', 'tls-3', 'tls-4']);
    expect(await receive(broker, 'secured', 'g-over-plaintext', false, 6)).toHaveLength(6);
  });

  it('enforcing: a plaintext client is refused, a TLS client is served', async () => {
    const broker = await start('enforcing');
    // The client's startup tolerates an unreachable endpoint; its first send does not.
    const plaintext = await producerFor(broker, { requestTimeout: 1000 });
    await expect(plaintext.send({ topic: 'enforced', body: Buffer.from('in the clear') })).rejects.toThrow();
    await plaintext.shutdown();
    const producer = await producerFor(broker, { sslEnabled: true });
    await producer.send({ topic: 'enforced', body: Buffer.from('only tls') });
    await producer.shutdown();
    expect(await receive(broker, 'enforced', 'g-enforced', true, 1)).toEqual(['only tls']);
  });
});
