/** The objects bench/admin and bench/scrape-cost put into a broker for its metrics to show. */
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';

/** One record in every partition of every topic (kafkajs). */
export async function recordInEveryPartition(brokers: string, topics: readonly string[], partitions: number, value: string): Promise<void> {
  const producer = new Kafka({ clientId: 'bench-metrics-objects', brokers: [brokers], logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  await producer.sendBatch({ topicMessages: topics.map((topic) => ({ topic, messages: Array.from({ length: partitions }, (_, partition) => ({ partition, value })) })) });
  await producer.disconnect();
}

/** `count` durable queues `metrics-queue-<i>`, a persistent message in each (amqplib, confirmed). */
export async function queuesWithAMessage(url: string, count: number, body: string): Promise<void> {
  const connection = await amqp.connect(url);
  const channel = await connection.createConfirmChannel();
  for (let i = 0; i < count; i++) {
    await channel.assertQueue(`metrics-queue-${i}`, { durable: true });
    channel.sendToQueue(`metrics-queue-${i}`, Buffer.from(body), { persistent: true });
  }
  await channel.waitForConfirms();
  await connection.close();
}
