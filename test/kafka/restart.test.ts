import type { EachMessagePayload } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function consumeUntil(kafka: KafkaTestBroker, expected: number): Promise<string[]> {
  const seen: EachMessagePayload[] = [];
  const consumer = kafka.client().consumer({ groupId: 'durable', heartbeatInterval: 100, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'orders', fromBeginning: true });
  await consumer.run({ autoCommitInterval: 50, eachMessage: async (payload) => void seen.push(payload) });
  await eventually(() => seen.length >= expected, 20_000, `${expected} messages`);
  await consumer.disconnect();
  return seen.map((s) => s.message.value!.toString());
}

describe('Kafka on storage-fs across a broker restart', () => {
  it('resumes a group from its committed offsets with nothing lost or repeated', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    let kafka = await startKafka({ dataDir: dir.path, topics: { flush: 'always' } });
    const port = kafka.port;
    const admin = kafka.client().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] });
    await admin.disconnect();
    const producer = kafka.client().producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `first-${i}` })) });
    await producer.disconnect();
    const first = await consumeUntil(kafka, 30);
    expect(first.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `first-${i}`).sort());
    await kafka.stop();

    kafka = await startKafka({ dataDir: dir.path, port, topics: { flush: 'always' } });
    cleanups.push(() => kafka.stop());
    const offsets = await (async () => {
      const a = kafka.client().admin();
      await a.connect();
      const result = await a.fetchOffsets({ groupId: 'durable', topics: ['orders'] });
      await a.disconnect();
      return result[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
    })();
    expect(offsets).toBe(30);
    const again = kafka.client().producer();
    await again.connect();
    await again.send({ topic: 'orders', messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `second-${i}` })) });
    await again.disconnect();
    const second = await consumeUntil(kafka, 10);
    expect(second.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `second-${i}`).sort());
  });
});
