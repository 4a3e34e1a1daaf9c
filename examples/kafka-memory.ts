/**
 * A Kafka-only broker on storage-memory, composed in code, used by kafkajs and stopped.
 * Run: npx tsx examples/kafka-memory.ts
 */
import { Kafka, logLevel } from 'kafkajs';
import { createBroker } from '../core/index.ts';
import { kafka } from '../plugins/kafka/index.ts';
import { memoryStorage } from '../plugins/storage-memory/index.ts';

const broker = await createBroker({
  plugins: [memoryStorage(), kafka()],
  config: { logLevel: 'warn', host: '127.0.0.1', kafka: { port: 'auto' }, groups: { initialRebalanceDelayMs: 0 } },
});
await broker.start();
const port = broker.listeners().find((l) => l.protocol === 'kafka')!.port;
console.log(`kafka listening on 127.0.0.1:${port}`);

const client = new Kafka({ clientId: 'example', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
const producer = client.producer({ allowAutoTopicCreation: true });
await producer.connect();
await producer.send({ topic: 'greetings', messages: [{ key: 'en', value: 'hello' }, { key: 'fr', value: 'bonjour' }] });
await producer.disconnect();

const consumer = client.consumer({ groupId: 'example', maxWaitTimeInMs: 100 });
await consumer.connect();
await consumer.subscribe({ topic: 'greetings', fromBeginning: true });
await new Promise<void>((resolve) => {
  let seen = 0;
  void consumer.run({
    eachMessage: async ({ message }) => {
      console.log(`${message.key} -> ${message.value}`);
      if (++seen === 2) resolve();
    },
  });
});
await consumer.disconnect();
await broker.stop();
