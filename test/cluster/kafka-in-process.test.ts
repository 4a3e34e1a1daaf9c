import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { createBroker, MemoryCoordinationStore, TOKENS, type Broker, type Cluster } from '../../core/index.ts';
import { memoryCoordination } from '../../core/testing/index.ts';
import { kafka } from '../../plugins/kafka/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';
import { eventually } from '../helpers/kafka.ts';

/** Three Kafka brokers in one process over an in-memory coordination store, driven by kafkajs. */
let brokers: Broker[] = [];
afterEach(async () => {
  await Promise.all(brokers.map((b) => b.stop().catch(() => undefined)));
  brokers = [];
});

async function startCluster(ids: number[]): Promise<Broker[]> {
  const store = new MemoryCoordinationStore();
  for (const nodeId of ids) {
    const broker = await createBroker({
      plugins: [memoryStorage(), memoryCoordination(store, 1000), kafka()],
      config: {
        nodeId,
        host: '127.0.0.1',
        logLevel: process.env.WHARF_TEST_LOG ?? 'warn',
        replication: { port: 'auto', fetchMaxWaitMs: 200, lagMaxMs: 2000, offsetsPartitions: 4 },
        topics: { flush: 'never' },
        kafka: { port: 'auto' },
        groups: { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 1000 },
      },
    });
    await broker.start();
    brokers.push(broker);
  }
  return brokers;
}

const kafkaPort = (b: Broker): number => b.listeners().find((l) => l.protocol === 'kafka')!.port;

describe('Kafka across a cluster in one process', () => {
  it('serves metadata from every broker, replicates acks=all produces, and moves a group to the new coordinator after a leader leaves', async () => {
    const cluster = await startCluster([1, 2, 3]);
    const client = new Kafka({ clientId: 'cluster-test', brokers: cluster.map((b) => `127.0.0.1:${kafkaPort(b)}`), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'events', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    const metadata = await admin.fetchTopicMetadata({ topics: ['events'] });
    const leaders = metadata.topics[0]!.partitions.map((p) => p.leader).sort();
    expect(leaders).toEqual([1, 2, 3]);
    for (const p of metadata.topics[0]!.partitions) expect(p.isr.sort()).toEqual([1, 2, 3]);

    const producer = client.producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < 30; i++) await producer.send({ topic: 'events', acks: -1, messages: [{ key: `k${i}`, value: `v${i}` }] });

    const consumer = client.consumer({ groupId: 'readers', sessionTimeout: 6000, heartbeatInterval: 500 });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'events', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await eventually(() => seen.length === 30, 20_000, '30 messages consumed');

    const victim = cluster.find((b) => b.get<Cluster>(TOKENS.Cluster).nodeId === 1)!;
    await victim.stop();
    for (let i = 30; i < 60; i++) await producer.send({ topic: 'events', acks: -1, messages: [{ key: `k${i}`, value: `v${i}` }] });
    await eventually(() => seen.length >= 60, 30_000, '60 messages consumed after broker 1 left');
    expect(new Set(seen).size).toBe(60);
    const after = await admin.fetchTopicMetadata({ topics: ['events'] });
    for (const p of after.topics[0]!.partitions) {
      expect(p.leader).not.toBe(1);
      expect(p.isr).not.toContain(1);
    }
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  });
});
