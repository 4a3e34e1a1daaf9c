/**
 * Load generator for bench/kafka: a kafkajs producer sending batches of 1,000 records of 100 B with
 * 4 sends in flight. Usage: node --import tsx bench/workers/kafkajs-producer.ts <broker> <records>
 * Prints "records <n> seconds <s> cpu <s>".
 */
import { Kafka, logLevel } from 'kafkajs';

const [broker, total] = [process.argv[2]!, Number(process.argv[3])];
const client = new Kafka({ clientId: 'bench', brokers: [broker], logLevel: logLevel.NOTHING });
const producer = client.producer({ allowAutoTopicCreation: true });
await producer.connect();
const value = Buffer.alloc(100, 'x');
const batch = Array.from({ length: 1000 }, () => ({ value }));
await producer.send({ topic: 'kafkajs-bench', acks: 1, messages: batch });
const cpuStart = process.cpuUsage();
const start = performance.now();
let sent = 0;
await Promise.all(
  Array.from({ length: 4 }, async () => {
    while (sent < total) {
      sent += batch.length;
      await producer.send({ topic: 'kafkajs-bench', acks: 1, messages: batch });
    }
  }),
);
const seconds = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpuStart);
console.log(`records ${sent} seconds ${seconds.toFixed(3)} cpu ${((cpu.user + cpu.system) / 1e6).toFixed(3)}`);
await producer.disconnect();
