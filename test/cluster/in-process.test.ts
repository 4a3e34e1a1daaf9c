import { afterEach, describe, expect, it } from 'vitest';
import { createBroker, encodeRecordBatch, MemoryCoordinationStore, TOKENS, type Broker, type Cluster, type TopicRegistry } from '../../core/index.ts';
import { memoryCoordination } from '../../core/testing/index.ts';
import amqp from 'amqplib';
import { rabbit } from '../../plugins/rabbit/index.ts';
import { rocket } from '../../plugins/rocket/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';
import { consumeN, text } from '../helpers/amqp.ts';
import { eventually } from '../helpers/kafka.ts';
import { Producer, quietLogger, receiveAll, SimpleConsumer } from '../helpers/rocket.ts';

/** Three brokers in one process over one in-memory coordination store: the core's replication without etcd. */
let brokers: Broker[] = [];
afterEach(async () => {
  await Promise.all(brokers.map((b) => b.stop().catch(() => undefined)));
  brokers = [];
});

async function startCluster(store: MemoryCoordinationStore, ids: number[], protocols = false): Promise<Broker[]> {
  const started: Broker[] = [];
  for (const nodeId of ids) {
    const broker = await createBroker({
      plugins: [memoryStorage(), memoryCoordination(store, 1000), ...(protocols ? [rabbit(), rocket()] : [])],
      config: {
        nodeId,
        host: '127.0.0.1',
        logLevel: process.env.WHARF_TEST_LOG ?? 'warn',
        replication: { port: 'auto', fetchMaxWaitMs: 200, lagMaxMs: 2000 },
        topics: { flush: 'never' },
        ...(protocols ? { amqp: { port: 'auto' }, rocket: { port: 'auto' } } : {}),
      },
    });
    await broker.start();
    started.push(broker);
  }
  brokers.push(...started);
  return started;
}

const batch = (values: string[]) => encodeRecordBatch({ records: values.map((v) => ({ value: Buffer.from(v) })) });

describe('cluster replication in one process', () => {
  it('replicates a cluster topic to every replica, commits acks=all at the ISR, and fails over to a follower', async () => {
    const store = new MemoryCoordinationStore();
    const [a, b, c] = await startCluster(store, [1, 2, 3]);
    const topicsA = a!.get<TopicRegistry>(TOKENS.TopicRegistry);
    await topicsA.create('orders', { partitions: 1, replicated: true, replicationFactor: 3, config: { minInsyncReplicas: 2 } });
    const clusterA = a!.get<Cluster>(TOKENS.Cluster);
    const state = clusterA.partitionState('orders', 0)!;
    expect(state.replicas).toHaveLength(3);
    const leader = brokers.find((x) => x.get<Cluster>(TOKENS.Cluster).nodeId === state.leader)!;
    const leaderLog = leader.get<TopicRegistry>(TOKENS.TopicRegistry).log('orders', 0)!;
    await eventually(() => leader.get<Cluster>(TOKENS.Cluster).leads('orders', 0), 5000, 'leadership');
    for (let i = 0; i < 10; i++) await leaderLog.append(batch([`m${i}`]));
    expect(leaderLog.highWatermark).toBe(10);
    for (const follower of brokers.filter((x) => x !== leader)) {
      const log = follower.get<TopicRegistry>(TOKENS.TopicRegistry).log('orders', 0)!;
      await eventually(() => log.logEndOffset === 10, 5000, 'replication');
      await expect(log.append(batch(['nope']))).rejects.toMatchObject({ code: 'NOT_LEADER' });
    }
    await leader.stop();
    const survivors = brokers.filter((x) => x !== leader);
    await eventually(() => survivors.some((x) => x.get<Cluster>(TOKENS.Cluster).leads('orders', 0)), 10_000, 'a new leader');
    const next = survivors.find((x) => x.get<Cluster>(TOKENS.Cluster).leads('orders', 0))!;
    const nextLog = next.get<TopicRegistry>(TOKENS.TopicRegistry).log('orders', 0)!;
    const appended = await nextLog.append(batch(['after']));
    expect(appended.baseOffset).toBe(10);
    expect(next.get<Cluster>(TOKENS.Cluster).partitionState('orders', 0)!.leaderEpoch).toBeGreaterThan(state.leaderEpoch);
    void b;
    void c;
  });
});

describe('AMQP and RocketMQ on a cluster member', () => {
  it('keep working with queues and topics of the node itself, which the cluster does not replicate', async () => {
    const [a] = await startCluster(new MemoryCoordinationStore(), [1, 2], true);
    const port = (protocol: string) => a!.listeners().find((l) => l.protocol === protocol)!.port;
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port('amqp')}`);
    const channel = await connection.createChannel();
    await channel.assertQueue('local-q', { durable: true });
    channel.sendToQueue('local-q', Buffer.from('hello'), { persistent: true });
    expect((await consumeN(channel, 'local-q', 1)).map(text)).toEqual(['hello']);
    await connection.close();

    const endpoints = `127.0.0.1:${port('rocketmq')}`;
    const producer = new Producer({ endpoints, namespace: '', logger: quietLogger } as never);
    await producer.startup();
    await producer.send({ topic: 'local-topic', body: Buffer.from('rocket') } as never);
    const consumer = new SimpleConsumer({ endpoints, namespace: '', consumerGroup: 'g', subscriptions: new Map([['local-topic', '*']]), awaitDuration: 500, logger: quietLogger } as never);
    await consumer.startup();
    expect((await receiveAll(consumer, 1)).map((m) => m.body.toString())).toEqual(['rocket']);
    await consumer.shutdown();
    await producer.shutdown();

    const topics = a!.get<TopicRegistry>(TOKENS.TopicRegistry);
    expect(topics.list({ includeInternal: true }).every((t) => !t.replicated)).toBe(true);
    expect(brokers[1]!.get<TopicRegistry>(TOKENS.TopicRegistry).get('local-topic')).toBeUndefined();
  });
});
