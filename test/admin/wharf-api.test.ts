import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { connect as streamConnect } from 'rabbitmq-stream-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafka } from '../../plugins/kafka/index.ts';
import { ApiKeys } from '../../plugins/kafka/codec/index.ts';
import { rabbit } from '../../plugins/rabbit/index.ts';
import { rabbitStream } from '../../plugins/rabbit-stream/index.ts';
import { rocket } from '../../plugins/rocket/index.ts';
import { runSecurityCommand } from '../../bin/security-cli.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';
import { startAdmin, type AdminTestBroker } from '../helpers/admin.ts';
import { eventually } from '../helpers/kafka.ts';
import { Producer, quietLogger, receiveAll, SimpleConsumer } from '../helpers/rocket.ts';

/** Wharf's own admin API (/api/wharf/...) against what real clients of each protocol did and see. */
let broker: AdminTestBroker;

beforeAll(async () => {
  broker = await startAdmin([kafka(), rabbit(), rocket(), rabbitStream()]);
});

afterAll(async () => {
  await broker?.stop();
});

const kafkaClient = () => new Kafka({ clientId: 'wharf-api-test', brokers: [`127.0.0.1:${broker.port('kafka')}`], logLevel: logLevel.NOTHING });

describe('/api/wharf/kafka', () => {
  it('creates a topic that kafkajs then uses; describes its partitions; browses without consuming; shows a group\'s members, assignment and lag; deletes', async () => {
    expect((await broker.api('PUT', '/api/wharf/kafka/topics/made-by-api', { partitions: 2, configs: { 'retention.ms': '3600000' } })).status).toBe(201);
    expect((await broker.api('PUT', '/api/wharf/kafka/topics/made-by-api', { partitions: 2 })).status).toBe(409);
    const admin = kafkaClient().admin();
    await admin.connect();
    const [metadata] = (await admin.fetchTopicMetadata({ topics: ['made-by-api'] })).topics;
    expect(metadata!.partitions).toHaveLength(2);
    const [described] = (await admin.describeConfigs({ resources: [{ type: 2, name: 'made-by-api', configNames: ['retention.ms'] }], includeSynonyms: false })).resources;
    expect(described!.configEntries[0]!.configValue).toBe('3600000');

    const producer = kafkaClient().producer();
    await producer.connect();
    await producer.send({ topic: 'made-by-api', messages: Array.from({ length: 4 }, (_, i) => ({ partition: 1, key: `k${i}`, value: `v${i}`, headers: { h: `x${i}` } })) });
    const topic = (await broker.api('GET', '/api/wharf/kafka/topics/made-by-api')).body;
    expect(topic).toMatchObject({ name: 'made-by-api', messages: 4, configs: expect.arrayContaining([{ name: 'retention.ms', value: '3600000', source: 'topic' }]) });
    expect(topic.partitions[1]).toMatchObject({ partition: 1, leader: expect.any(Number), log_start_offset: 0, high_watermark: 4, log_end_offset: 4 });
    expect((await broker.api('GET', '/api/wharf/kafka/topics')).body).toContainEqual(expect.objectContaining({ name: 'made-by-api', partitions: 2, messages: 4 }));

    const consumer = kafkaClient().consumer({ groupId: 'api-group' });
    await consumer.connect();
    await consumer.subscribe({ topics: ['made-by-api'], fromBeginning: true });
    let consumed = 0;
    await consumer.run({
      eachMessage: async ({ message }) => {
        // Stop committing after two, so the group lags by two.
        if (++consumed > 2) throw new Error('paused');
        void message;
      },
    });
    await eventually(async () => {
      const group = (await broker.api('GET', '/api/wharf/kafka/groups/api-group')).body;
      return group.state === 'Stable' && group.offsets?.some((o: any) => o.partition === 1 && o.committed_offset === 2);
    }, 20_000, 'the group to commit offset 2');
    const group = (await broker.api('GET', '/api/wharf/kafka/groups/api-group')).body;
    expect(group.members).toHaveLength(1);
    expect(group.members[0].assignment).toEqual([{ topic: 'made-by-api', partitions: [0, 1] }]);
    expect(group.offsets.find((o: any) => o.partition === 1)).toMatchObject({ committed_offset: 2, high_watermark: 4, lag: 2 });
    expect((await broker.api('GET', '/api/wharf/kafka/groups')).body).toContainEqual(expect.objectContaining({ group: 'api-group', members: 1, lag: 2 }));
    expect((await broker.api('DELETE', '/api/wharf/kafka/groups/api-group')).status).toBe(409);
    await consumer.disconnect();

    const browsed = (await broker.api('GET', '/api/wharf/kafka/topics/made-by-api/messages?partition=1&offset=1&limit=2')).body;
    expect(browsed.messages).toEqual([
      { offset: 1, timestamp: expect.any(Number), key: 'k1', key_encoding: 'string', value: 'v1', value_encoding: 'string', headers: [{ key: 'h', value: 'x1', encoding: 'string' }] },
      { offset: 2, timestamp: expect.any(Number), key: 'k2', key_encoding: 'string', value: 'v2', value_encoding: 'string', headers: [{ key: 'h', value: 'x2', encoding: 'string' }] },
    ]);
    expect(browsed.next_offset).toBe(3);
    // Browsing committed nothing: the group still lags by two.
    const offsets = await admin.fetchOffsets({ groupId: 'api-group', topics: ['made-by-api'] });
    expect(offsets[0]!.partitions.find((p) => p.partition === 1)!.offset).toBe('2');

    expect((await broker.api('DELETE', '/api/wharf/kafka/groups/api-group')).status).toBe(204);
    expect((await broker.api('DELETE', '/api/wharf/kafka/topics/made-by-api')).status).toBe(204);
    expect((await admin.listTopics()).includes('made-by-api')).toBe(false);
    await producer.disconnect();
    await admin.disconnect();
  });

  it('refuses bad topic definitions with 400 and unknown topics with 404', async () => {
    expect((await broker.api('PUT', '/api/wharf/kafka/topics/bad', { partitions: 0 })).status).toBe(400);
    expect((await broker.api('PUT', '/api/wharf/kafka/topics/bad', { configs: { 'retention.ms': 'soon' } })).status).toBe(400);
    expect((await broker.api('PUT', '/api/wharf/kafka/topics/bad%2Fname', {})).status).toBe(400);
    expect((await broker.api('GET', '/api/wharf/kafka/topics/missing')).status).toBe(404);
    expect((await broker.api('GET', '/api/wharf/kafka/topics/missing/messages')).status).toBe(404);
  });
});

describe('/api/wharf/rocketmq', () => {
  const endpoints = () => `127.0.0.1:${broker.port('rocketmq')}`;
  const producer = async () => {
    const p = new Producer({ endpoints: endpoints(), namespace: '', logger: quietLogger } as never);
    await p.startup();
    return p;
  };

  it('creates a FIFO topic at runtime that the official client then sends FIFO messages to, in order; the browser shows them unconsumed', async () => {
    expect((await broker.api('PUT', '/api/wharf/rocketmq/topics/fifo-orders', { message_type: 'FIFO', queues: 2 })).status).toBe(201);
    expect((await broker.api('GET', '/api/wharf/rocketmq/topics/fifo-orders')).body).toMatchObject({ name: 'fifo-orders', message_type: 'FIFO', queues: 2, permission: 'READ_WRITE' });
    const p = await producer();
    await expect(p.send({ topic: 'fifo-orders', body: Buffer.from('no group') } as never)).rejects.toThrow(/not match/);
    for (let i = 0; i < 3; i++) await p.send({ topic: 'fifo-orders', messageGroup: 'order-7', body: Buffer.from(`step ${i}`), tag: 'T', keys: [`key-${i}`] } as never);
    await p.shutdown();

    const topic = (await broker.api('GET', '/api/wharf/rocketmq/topics/fifo-orders')).body;
    expect(topic.messages).toBe(3);
    const queue = topic.message_queues.find((q: any) => q.max_offset === 3).queue;
    const browsed = (await broker.api('GET', `/api/wharf/rocketmq/topics/fifo-orders/messages?queue=${queue}`)).body;
    expect(browsed.messages.map((m: any) => [m.body, m.message_type, m.message_group, m.tag, m.keys])).toEqual([
      ['step 0', 'FIFO', 'order-7', 'T', ['key-0']],
      ['step 1', 'FIFO', 'order-7', 'T', ['key-1']],
      ['step 2', 'FIFO', 'order-7', 'T', ['key-2']],
    ]);

    // The group is made FIFO at runtime too; its consumer gets the group one message at a time, in order.
    expect((await broker.api('PUT', '/api/wharf/rocketmq/groups/fifo-consumers', { fifo: true })).status).toBe(201);
    const consumer = new SimpleConsumer({ endpoints: endpoints(), namespace: '', logger: quietLogger, consumerGroup: 'fifo-consumers', subscriptions: new Map([['fifo-orders', '*']]), awaitDuration: 500 } as never);
    await consumer.startup();
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [message] = await receiveAll(consumer, 1);
      // The group's next message waits until this one is acked.
      expect(await consumer.receive(1, 30_000)).toEqual([]);
      seen.push(message!.body.toString());
      await consumer.ack(message!);
    }
    expect(seen).toEqual(['step 0', 'step 1', 'step 2']);
    const group = (await broker.api('GET', '/api/wharf/rocketmq/groups/fifo-consumers')).body;
    expect(group).toMatchObject({ group: 'fifo-consumers', fifo: true, source: 'runtime', lag: 0, inflight: 0 });
    expect(group.members.length).toBeGreaterThanOrEqual(1);
    await consumer.shutdown();
  });

  it('retypes a topic a NORMAL send created, and refuses bad definitions', async () => {
    const first = await producer();
    await first.send({ topic: 'retyped', body: Buffer.from('plain') } as never);
    await first.shutdown();
    expect((await broker.api('GET', '/api/wharf/rocketmq/topics/retyped')).body.message_type).toBe('NORMAL');
    expect((await broker.api('PUT', '/api/wharf/rocketmq/topics/retyped', { message_type: 'DELAY' })).status).toBe(204);
    const second = await producer();
    await second.send({ topic: 'retyped', body: Buffer.from('later'), delay: 60_000 } as never);
    await second.shutdown();
    expect((await broker.api('GET', '/api/wharf/rocketmq/topics')).body).toContainEqual(expect.objectContaining({ name: 'retyped', message_type: 'DELAY' }));
    expect((await broker.api('PUT', '/api/wharf/rocketmq/topics/retyped', { message_type: 'ORDERED' })).status).toBe(400);
    expect((await broker.api('PUT', '/api/wharf/rocketmq/topics/retyped', { queues: 0 })).status).toBe(400);
    expect((await broker.api('PUT', '/api/wharf/rocketmq/groups/bad%20name', {})).status).toBe(400);
    expect((await broker.api('PUT', '/api/wharf/rocketmq/groups/g', { colour: 'red' })).status).toBe(400);
  });
});

describe('/api/wharf/amqp', () => {
  it('browses a queue\'s ready and unacked messages without taking them', async () => {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port('amqp')}`);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue('browsed', { durable: true });
    for (let i = 0; i < 3; i++) channel.sendToQueue('browsed', Buffer.from(`m${i}`), { headers: { i }, contentType: 'text/plain' });
    await channel.waitForConfirms();
    const held = await channel.get('browsed', { noAck: false });
    const browsed = (await broker.api('GET', '/api/wharf/amqp/queues/%2F/browsed/messages')).body;
    expect(browsed.messages.map((m: any) => [m.payload, m.state, m.properties.headers])).toEqual([
      ['m0', 'unacked', { i: 0 }],
      ['m1', 'ready', { i: 1 }],
      ['m2', 'ready', { i: 2 }],
    ]);
    const queue = (await broker.api('GET', '/api/queues/%2F/browsed')).body;
    expect([queue.messages_ready, queue.messages_unacknowledged]).toEqual([2, 1]);
    channel.ack(held as amqp.GetMessage);
    await connection.close();
  });
});

describe('/api/wharf/connections', () => {
  it('lists the open connections of every protocol with client id and software, peer, user, bytes and connect time; /api/connections keeps RabbitMQ\'s AMQP-only shape', async () => {
    const before = Date.now();
    const producer = new Kafka({ clientId: 'conn-kafkajs', brokers: [`127.0.0.1:${broker.port('kafka')}`], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: 'conn-topic', messages: [{ value: 'x' }] });
    // KIP-511: an ApiVersions v3 request names the client's software (kafkajs sends v2, without it).
    const wire = await KafkaWire.connect(broker.port('kafka'));
    await wire.request(ApiKeys.ApiVersions, 3, { clientSoftwareName: 'wire-test-client', clientSoftwareVersion: '9.8.7' });
    const rocketProducer = new Producer({ endpoints: `127.0.0.1:${broker.port('rocketmq')}`, namespace: '', logger: quietLogger } as never);
    await rocketProducer.startup();
    await rocketProducer.send({ topic: 'conn-rocket', body: Buffer.from('x') } as never);
    const amqpConnection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port('amqp')}`, { clientProperties: { connection_name: 'conn-amqplib' } });
    // A SCRAM login: the connection shows its user.
    await runSecurityCommand('users', ['add', 'conn-erin', '--password', 'erin-secret', '--bootstrap-server', `127.0.0.1:${broker.port('kafka')}`]);
    const scram = new Kafka({ clientId: 'conn-scram', brokers: [`127.0.0.1:${broker.port('kafka')}`], logLevel: logLevel.NOTHING, sasl: { mechanism: 'scram-sha-256', username: 'conn-erin', password: 'erin-secret' } }).admin();
    await scram.connect();
    await scram.listTopics();
    const stream = await streamConnect({ hostname: '127.0.0.1', port: broker.port('rabbitmq-stream'), username: 'guest', password: 'guest', vhost: '/' });
    try {
      const listed = (await broker.api('GET', '/api/wharf/connections')).body as any[];
      const kafkajs = listed.find((c) => c.client_id === 'conn-kafkajs');
      expect(kafkajs).toMatchObject({ protocol: 'kafka', listener: 'kafka', tls: false, peer_host: '127.0.0.1', user: null, client_software: null, details: { principal: 'User:ANONYMOUS' } });
      expect(kafkajs.bytes_in).toBeGreaterThan(0);
      expect(kafkajs.bytes_out).toBeGreaterThan(0);
      expect(kafkajs.connected_at).toBeGreaterThanOrEqual(before - 1000);
      expect(kafkajs.connected_at).toBeLessThanOrEqual(Date.now());
      expect(listed.find((c) => c.client_id === 'wire-test')).toMatchObject({ protocol: 'kafka', peer_port: wire.socket.localPort, client_software: { name: 'wire-test-client', version: '9.8.7' } });
      const rocketmq = listed.find((c) => c.protocol === 'rocketmq' && c.client_id === (rocketProducer as any).clientId);
      expect(rocketmq).toMatchObject({ listener: 'rocketmq', peer_host: '127.0.0.1', client_software: { name: 'HTTP', version: expect.any(String) }, details: { client_type: 'PRODUCER' } });
      expect(rocketmq.bytes_in).toBeGreaterThan(0);
      const amqpEntry = listed.find((c) => c.protocol === 'amqp');
      expect(amqpEntry).toMatchObject({ user: 'guest', client_id: 'conn-amqplib', client_software: { name: 'amqplib' }, peer_port: (amqpConnection as any).connection.stream.localPort, details: { vhost: '/' } });
      expect(listed.find((c) => c.protocol === 'stream')).toMatchObject({ listener: 'rabbitmq-stream', user: 'guest', peer_host: '127.0.0.1', details: { vhost: '/' } });
      expect(listed.find((c) => c.client_id === 'conn-scram')).toMatchObject({ protocol: 'kafka', user: 'conn-erin', details: { principal: 'User:conn-erin', sasl_mechanism: 'SCRAM-SHA-256' } });
      const one = (await broker.api('GET', `/api/wharf/connections/kafka/${kafkajs.id}`)).body;
      expect(one.client_id).toBe('conn-kafkajs');
      expect((await broker.api('GET', '/api/wharf/connections/kafka/999999')).status).toBe(404);

      // RabbitMQ's own endpoint: AMQP connections only, in RabbitMQ's shape (rabbitmqadmin reads it).
      const rabbitList = (await broker.api('GET', '/api/connections')).body as any[];
      expect(rabbitList).toHaveLength(1);
      expect(rabbitList[0]).toMatchObject({ protocol: 'AMQP 0-9-1', user: 'guest', vhost: '/', client_properties: expect.objectContaining({ connection_name: 'conn-amqplib' }) });
    } finally {
      await stream.close();
      await scram.disconnect();
      await amqpConnection.close();
      await rocketProducer.shutdown();
      wire.close();
      await producer.disconnect();
    }
    const ours = (c: any) => ['conn-kafkajs', 'conn-scram', 'wire-test', 'conn-amqplib'].includes(c.client_id) || c.protocol === 'stream';
    await eventually(async () => !((await broker.api('GET', '/api/wharf/connections')).body as any[]).some(ours), 10_000, 'the closed connections to be gone from the list');
  });
});
