import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroker, type Broker } from '../../core/index.ts';
import { kafka } from '../../plugins/kafka/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';
import { hasProgram, runProgram } from '../helpers/programs.ts';
import { addUser } from '../helpers/security.ts';
import { makeTestCertificates, tlsFlags, type TestCertificates } from '../helpers/tls.ts';

const haveOpenssl = hasProgram('openssl', 'the Kafka SASL_SSL tests');
const haveKcat = haveOpenssl && hasProgram('kcat', 'the kcat SASL_SSL tests');

/** SASL over TLS (Kafka's SASL_SSL): the TLS listener, a broker that refuses anonymous clients, a SCRAM user. */
describe.skipIf(!haveOpenssl)('Kafka SASL_SSL: SASL on the TLS listener', () => {
  let certs: TestCertificates;
  let broker: Broker;
  let tls: string;
  beforeAll(async () => {
    certs = await makeTestCertificates({});
    broker = await createBroker({
      plugins: [memoryStorage(), kafka()],
      config: {
        logLevel: 'error',
        host: '127.0.0.1',
        allowAnonymous: 'false',
        security: { failedAuthenticationDelayMs: 0 },
        tls: tlsFlags(certs, 'none'),
        kafka: { port: 'auto', tlsPort: 'auto' },
        topics: { flush: 'never' },
      },
    });
    await broker.start();
    tls = `127.0.0.1:${broker.listeners().find((l) => l.protocol === 'kafka-tls')!.port}`;
    await addUser(broker, 'alice', 'alice-secret', { superUser: true });
  });
  afterAll(async () => {
    await broker?.stop();
    certs?.remove();
  });

  const saslSsl = (mechanism: string, password = 'alice-secret') => [
    '-X', 'security.protocol=SASL_SSL', '-X', `ssl.ca.location=${certs.ca.certFile}`,
    '-X', `sasl.mechanisms=${mechanism}`, '-X', 'sasl.username=alice', '-X', `sasl.password=${password}`,
  ];

  it.skipIf(!haveKcat)('kcat (librdkafka) produces and consumes with SCRAM-SHA-512 and with PLAIN; a wrong password is refused', async () => {
    for (const mechanism of ['SCRAM-SHA-512', 'PLAIN']) {
      const topic = `sasl-ssl-${mechanism.toLowerCase()}`;
      const lines = Array.from({ length: 50 }, (_, i) => `${mechanism}-${i}`);
      await runProgram('kcat', ['-b', tls, ...saslSsl(mechanism), '-P', '-t', topic], { input: `${lines.join('\n')}\n` });
      const consumed = await runProgram('kcat', ['-b', tls, ...saslSsl(mechanism), '-C', '-t', topic, '-o', 'beginning', '-e', '-q']);
      expect(consumed.trim().split('\n')).toEqual(lines);
    }
    await expect(runProgram('kcat', ['-b', tls, ...saslSsl('SCRAM-SHA-512', 'wrong'), '-L', '-m', '5'], { timeoutMs: 20_000 })).rejects.toThrow(/Authentication failed|SASL authentication error|Broker transport failure|Local: All broker connections are down/);
  });

  it('kafkajs produces and consumes in a group with SCRAM-SHA-256 over TLS', async () => {
    const client = (sasl: SASLOptions) =>
      new Kafka({ clientId: 'sasl-ssl', brokers: [tls], ssl: { ca: [certs.ca.cert] }, sasl, logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 100 } });
    const alice = client({ mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' });
    const producer = alice.producer();
    await producer.connect();
    await producer.send({ topic: 'kafkajs-sasl-ssl', messages: Array.from({ length: 20 }, (_, i) => ({ value: `v${i}` })) });
    await producer.disconnect();
    const consumer = alice.consumer({ groupId: 'sasl-ssl-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kafkajs-sasl-ssl', fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${seen.length} of 20`)), 20_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value!.toString());
          if (seen.length === 20) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
    await expect(client({ mechanism: 'scram-sha-256', username: 'alice', password: 'wrong' }).admin().connect()).rejects.toMatchObject({
      name: 'KafkaJSSASLAuthenticationError',
      message: expect.stringContaining('invalid credentials with SASL mechanism SCRAM-SHA-256'),
    });
  });
});
