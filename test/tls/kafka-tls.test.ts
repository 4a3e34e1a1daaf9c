import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroker, type Broker } from '../../core/index.ts';
import { kafka } from '../../plugins/kafka/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';
import { hasProgram, runProgram } from '../helpers/programs.ts';
import { makeTestCertificates, tlsFlags, type TestCertificates } from '../helpers/tls.ts';

const haveOpenssl = hasProgram('openssl', 'the Kafka TLS tests');
const haveKcat = haveOpenssl && hasProgram('kcat', 'the kcat TLS tests');

async function startKafkaTls(certs: TestCertificates, clientAuth: 'none' | 'request' | 'require'): Promise<{ broker: Broker; port: (protocol: string) => number }> {
  const broker = await createBroker({
    plugins: [memoryStorage(), kafka()],
    config: { logLevel: 'error', host: '127.0.0.1', tls: tlsFlags(certs, clientAuth), kafka: { port: 'auto', tlsPort: 'auto' }, topics: { flush: 'never' } },
  });
  await broker.start();
  return { broker, port: (protocol) => broker.listeners().find((l) => l.protocol === protocol)!.port };
}

describe.skipIf(!haveOpenssl)('Kafka over TLS (--kafka-tls-port)', () => {
  let certs: TestCertificates;
  let broker: Broker;
  let plainPort: number;
  let tlsPort: number;
  beforeAll(async () => {
    certs = await makeTestCertificates({ alice: [['CN', 'alice']] });
    const started = await startKafkaTls(certs, 'none');
    broker = started.broker;
    plainPort = started.port('kafka');
    tlsPort = started.port('kafka-tls');
  });
  afterAll(async () => {
    await broker?.stop();
    certs?.remove();
  });

  const ssl = () => ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${certs.ca.certFile}`];

  it.skipIf(!haveKcat)('kcat (librdkafka) over SSL produces and consumes; Metadata names the TLS listener to a TLS client and the plaintext one to a plaintext client', async () => {
    const tls = `127.0.0.1:${tlsPort}`;
    expect(await runProgram('kcat', ['-b', tls, ...ssl(), '-L'])).toContain(`broker 1 at 127.0.0.1:${tlsPort}`);
    expect(await runProgram('kcat', ['-b', `127.0.0.1:${plainPort}`, '-L'])).toContain(`broker 1 at 127.0.0.1:${plainPort}`);
    const lines = Array.from({ length: 200 }, (_, i) => `tls-${i}-${'x'.repeat(i)}`);
    await runProgram('kcat', ['-b', tls, ...ssl(), '-P', '-t', 'over-tls'], { input: `${lines.join('\n')}\n` });
    const consumed = await runProgram('kcat', ['-b', tls, ...ssl(), '-C', '-t', 'over-tls', '-o', 'beginning', '-e', '-q']);
    expect(consumed.trim().split('\n')).toEqual(lines);
    // The group coordinator FindCoordinator names is on the TLS listener too: a group consumer works over TLS.
    const grouped = await runProgram('kcat', ['-b', tls, ...ssl(), '-G', 'tls-group', 'over-tls', '-e', '-q', '-X', 'auto.offset.reset=earliest']);
    expect(grouped.trim().split('\n')).toHaveLength(200);
  });

  it('kafkajs over TLS produces and consumes in a group (it connects to the addresses Metadata and FindCoordinator give)', async () => {
    const client = new Kafka({ clientId: 'tls-test', brokers: [`localhost:${tlsPort}`], ssl: { ca: [certs.ca.cert] }, logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100 } });
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'kafkajs-tls', messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();
    const consumer = client.consumer({ groupId: 'kafkajs-tls-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kafkajs-tls', fromBeginning: true });
    const values: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${values.length} of 50 messages`)), 20_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          values.push(message.value!.toString());
          if (values.length === 50) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    expect(values).toEqual(Array.from({ length: 50 }, (_, i) => `v${i}`));
  });

  it('a plaintext Kafka client on the TLS port gets no answer and is closed', async () => {
    const client = new Kafka({ clientId: 'wrong-port', brokers: [`127.0.0.1:${tlsPort}`], logLevel: logLevel.NOTHING, connectionTimeout: 1000, requestTimeout: 2000, retry: { retries: 0 } });
    const admin = client.admin();
    await expect(admin.connect()).rejects.toThrow();
    await admin.disconnect();
  });
});

describe.skipIf(!haveKcat)('--tls-client-auth for Kafka (kcat)', () => {
  let certs: TestCertificates;
  beforeAll(async () => {
    certs = await makeTestCertificates({ alice: [['CN', 'alice']] });
  });
  afterAll(() => certs?.remove());

  const kcatList = (port: number, client?: { certFile: string; keyFile: string }) =>
    runProgram('kcat', [
      '-b', `127.0.0.1:${port}`, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${certs.ca.certFile}`, '-m', '3', '-L',
      ...(client ? ['-X', `ssl.certificate.location=${client.certFile}`, '-X', `ssl.key.location=${client.keyFile}`] : []),
    ], { timeoutMs: 15_000 });

  it('require: a client without a certificate, or with one no trusted CA signed, is refused; one with a valid certificate is served', async () => {
    const { broker, port } = await startKafkaTls(certs, 'require');
    try {
      await expect(kcatList(port('kafka-tls'))).rejects.toThrow();
      await expect(kcatList(port('kafka-tls'), certs.rogue)).rejects.toThrow();
      expect(await kcatList(port('kafka-tls'), certs.clients.alice)).toContain(`broker 1 at 127.0.0.1:${port('kafka-tls')}`);
    } finally {
      await broker.stop();
    }
  });

  it('request: a client without a certificate is served, one with a certificate that does not verify is refused', async () => {
    const { broker, port } = await startKafkaTls(certs, 'request');
    try {
      expect(await kcatList(port('kafka-tls'))).toContain('broker 1 at');
      await expect(kcatList(port('kafka-tls'), certs.rogue)).rejects.toThrow();
      expect(await kcatList(port('kafka-tls'), certs.clients.alice)).toContain('broker 1 at');
    } finally {
      await broker.stop();
    }
  });
});
