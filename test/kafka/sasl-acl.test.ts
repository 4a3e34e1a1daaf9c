import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeys, defaultFetchRequest, defaultFetchRequestFetchPartition, defaultFetchRequestFetchTopic, defaultMetadataRequest } from '../../plugins/kafka/codec/index.ts';
import { KafkaError } from '../../plugins/kafka/error-codes.ts';
import type { KafkaTestBroker } from '../helpers/kafka.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';
import { hasProgram, runProgram, runPython } from '../helpers/programs.ts';
import { addAcls, addUser, startSecureKafka, topicAcl } from '../helpers/security.ts';

/**
 * Kafka SASL and ACLs with real clients over sockets: librdkafka (kcat, confluent-kafka), kafkajs and
 * kafka-python log in with each mechanism; what ACLs refuse comes back with Kafka's error codes.
 */
let kafka: KafkaTestBroker;
beforeAll(async () => {
  kafka = await startSecureKafka();
  await addUser(kafka.broker, 'admin', 'admin-secret', { superUser: true });
  await addUser(kafka.broker, 'alice', 'alice-secret');
  await addUser(kafka.broker, 'bob', 'bob-secret');
  await addAcls(
    kafka.broker,
    { ...topicAcl('alice', 'orders', 'all'), patternType: 'prefixed' },
    topicAcl('alice', 'payments', 'all'),
    topicAcl('alice', 'payments', 'all', 'deny'),
    { resourceType: 'group', resourceName: 'alice-', patternType: 'prefixed', principal: 'User:alice', host: '*', operation: 'read', permission: 'allow' },
    { resourceType: 'group', resourceName: 'watched', patternType: 'literal', principal: 'User:alice', host: '*', operation: 'describe', permission: 'allow' },
  );
  const admin = client({ mechanism: 'scram-sha-512', username: 'admin', password: 'admin-secret' }).admin();
  await admin.connect();
  await admin.createTopics({ topics: ['orders', 'orders-kafkajs', 'payments', 'kcat-plain', 'python'].map((topic) => ({ topic, numPartitions: 1 })) });
  await admin.disconnect();
});
afterAll(() => kafka.stop());

const client = (sasl: SASLOptions, config: Partial<KafkaConfig> = {}) =>
  new Kafka({ clientId: 'sasl-test', brokers: kafka.brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 }, sasl, ...config });

const kcat = (mechanism: string, user: string, password: string, args: string[], input?: string) =>
  runProgram(
    'kcat',
    ['-b', kafka.brokers[0]!, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`, ...args],
    { input, timeoutMs: 20_000 },
  );

describe('SASL logins with real clients', () => {
  it.skipIf(!hasProgram('kcat', 'the kcat SASL test'))('kcat (librdkafka) produces and consumes over SASL_PLAINTEXT with SCRAM-SHA-512 and with PLAIN', async () => {
    await kcat('SCRAM-SHA-512', 'alice', 'alice-secret', ['-P', '-t', 'orders'], 'one\ntwo\nthree\n');
    expect((await kcat('SCRAM-SHA-512', 'alice', 'alice-secret', ['-C', '-t', 'orders', '-o', 'beginning', '-e', '-q'])).trim().split('\n')).toEqual(['one', 'two', 'three']);
    await kcat('PLAIN', 'admin', 'admin-secret', ['-P', '-t', 'kcat-plain'], 'plain\n');
    expect((await kcat('PLAIN', 'admin', 'admin-secret', ['-C', '-t', 'kcat-plain', '-o', 'beginning', '-e', '-q'])).trim()).toBe('plain');
    // A wrong password: librdkafka reports the broker's SASL_AUTHENTICATION_FAILED.
    await expect(kcat('SCRAM-SHA-512', 'alice', 'wrong', ['-L', '-m', '2'])).rejects.toThrow(/Authentication failed/);
  });

  it('kafkajs produces and consumes in a group with SCRAM-SHA-256', async () => {
    const alice = client({ mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' });
    const producer = alice.producer();
    await producer.connect();
    await producer.send({ topic: 'orders-kafkajs', messages: [{ value: 'from-kafkajs' }] });
    await producer.disconnect();
    const consumer = alice.consumer({ groupId: 'alice-kafkajs', sessionTimeout: 6000 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders-kafkajs', fromBeginning: true });
    const seen = new Promise<string>((resolve, reject) => {
      consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) }).catch(reject);
    });
    expect(await seen).toBe('from-kafkajs');
    await consumer.disconnect();
  });

  it.skipIf(!hasProgram('kafka-python', 'the kafka-python SASL test'))('kafka-python 2.0.2 logs in with PLAIN over the old (bare token) framing', async () => {
    const out = await runPython(`
from kafka import KafkaProducer, KafkaConsumer
from kafka.errors import NoBrokersAvailable, KafkaError
auth = dict(bootstrap_servers='${kafka.brokers[0]}', security_protocol='SASL_PLAINTEXT', sasl_mechanism='PLAIN', sasl_plain_username='admin')
p = KafkaProducer(sasl_plain_password='admin-secret', **auth)
for i in range(5): p.send('python', value=b'v%d' % i)
p.flush()
p.close()
c = KafkaConsumer('python', sasl_plain_password='admin-secret', auto_offset_reset='earliest', consumer_timeout_ms=3000, **auth)
print(sorted(m.value.decode() for m in c))
c.close()
try:
    KafkaProducer(sasl_plain_password='wrong', **auth)
    print('logged in with a wrong password')
except (NoBrokersAvailable, KafkaError) as e:
    print('refused', type(e).__name__)
`);
    expect(out.trim().split('\n')).toEqual(["['v0', 'v1', 'v2', 'v3', 'v4']", 'refused NoBrokersAvailable']);
  });

  it('answers a wrong password with SASL_AUTHENTICATION_FAILED and closes the connection', async () => {
    const wire = await KafkaWire.connect(kafka.port);
    const handshake = await wire.request(ApiKeys.SaslHandshake, 1, { mechanism: 'PLAIN' });
    expect(handshake).toEqual({ errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] });
    const answer = await wire.request(ApiKeys.SaslAuthenticate, 1, { authBytes: Buffer.from('\0alice\0wrong') });
    expect(answer.errorCode).toBe(KafkaError.SASL_AUTHENTICATION_FAILED);
    expect(answer.errorMessage).toBe('Authentication failed: Invalid username or password');
    await wire.closed;

    await expect(client({ mechanism: 'scram-sha-256', username: 'alice', password: 'wrong' }).admin().connect()).rejects.toMatchObject({
      name: 'KafkaJSSASLAuthenticationError',
      message: expect.stringContaining('Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256'),
    });
  });

  it('refuses requests before authentication, and unknown mechanisms, as Kafka does', async () => {
    const early = await KafkaWire.connect(kafka.port);
    early.send(early.encode(ApiKeys.Metadata, 1, { ...defaultMetadataRequest(), topics: null }));
    await early.closed;

    const unknown = await KafkaWire.connect(kafka.port);
    expect(await unknown.request(ApiKeys.SaslHandshake, 1, { mechanism: 'GSSAPI' })).toEqual({
      errorCode: KafkaError.UNSUPPORTED_SASL_MECHANISM,
      mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'],
    });
    await unknown.closed;
  });
});

describe('ACLs with real clients', () => {
  const alice = () => client({ mechanism: 'scram-sha-512', username: 'alice', password: 'alice-secret' });

  it('answers produce and fetch on a denied topic with TOPIC_AUTHORIZATION_FAILED while an allowed topic works', async () => {
    const producer = alice().producer();
    await producer.connect();
    await expect(producer.send({ topic: 'payments', messages: [{ value: 'x' }] })).rejects.toMatchObject({ cause: { type: 'TOPIC_AUTHORIZATION_FAILED' } });
    await expect(producer.send({ topic: 'orders', messages: [{ value: 'allowed' }] })).resolves.toBeDefined();
    await producer.disconnect();

    const wire = await KafkaWire.connect(kafka.port);
    await wire.request(ApiKeys.SaslHandshake, 1, { mechanism: 'PLAIN' });
    expect((await wire.request(ApiKeys.SaslAuthenticate, 1, { authBytes: Buffer.from('\0alice\0alice-secret') })).errorCode).toBe(0);
    const partitionError = async (topic: string) => {
      const partition = { ...defaultFetchRequestFetchPartition(), partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 };
      const request = { ...defaultFetchRequest(), maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, topics: [{ ...defaultFetchRequestFetchTopic(), topic, partitions: [partition] }] };
      return (await wire.request(ApiKeys.Fetch, 11, request)).responses[0]!.partitions[0]!.errorCode;
    };
    expect(await partitionError('payments')).toBe(KafkaError.TOPIC_AUTHORIZATION_FAILED);
    expect(await partitionError('orders')).toBe(KafkaError.NONE);
    wire.close();
  });

  it.skipIf(!hasProgram('kcat', 'the kcat ACL test'))('kcat: a consumer of a denied topic gets TOPIC_AUTHORIZATION_FAILED, a user without ACLs too', async () => {
    await expect(kcat('SCRAM-SHA-512', 'alice', 'alice-secret', ['-C', '-t', 'payments', '-o', 'beginning', '-e', '-q'])).rejects.toThrow(/Topic authorization failed/i);
    await expect(kcat('SCRAM-SHA-512', 'bob', 'bob-secret', ['-P', '-t', 'orders'], 'bob\n')).rejects.toThrow(/Topic authorization failed/i);
  });

  it.skipIf(!hasProgram('kcat', 'the kcat group ACL test'))('kcat: a consumer in a group it may not even describe gets GROUP_AUTHORIZATION_FAILED', async () => {
    await expect(kcat('SCRAM-SHA-512', 'alice', 'alice-secret', ['-G', 'not-alices', 'orders', '-e', '-q', '-X', 'auto.offset.reset=earliest'])).rejects.toThrow(/Group authorization failed/i);
  });

  it('answers JoinGroup without READ on the group with GROUP_AUTHORIZATION_FAILED and cluster operations with CLUSTER_AUTHORIZATION_FAILED', async () => {
    const consumer = alice().consumer({ groupId: 'watched', sessionTimeout: 6000 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    const crashed = new Promise<unknown>((resolve) => consumer.on(consumer.events.CRASH, (event) => resolve(event.payload.error)));
    await consumer.run({ eachMessage: async () => undefined });
    expect(await crashed).toMatchObject({ type: 'GROUP_AUTHORIZATION_FAILED' });
    await consumer.disconnect();

    const admin = alice().admin();
    await admin.connect();
    await expect(admin.describeAcls({ resourceType: 1, resourcePatternType: 1, operation: 1, permissionType: 1 } as never)).rejects.toMatchObject({ type: 'CLUSTER_AUTHORIZATION_FAILED' });
    await expect(admin.createTopics({ topics: [{ topic: 'alices-own' }] })).rejects.toMatchObject({ errors: [{ type: 'TOPIC_AUTHORIZATION_FAILED', topic: 'alices-own' }] });
    await admin.disconnect();
  });
});
