/**
 * Load generator for bench/rocket, with the official rocketmq-client-nodejs.
 *   produce <endpoints> <topic> <count> <bytes> <concurrency>   prints "done <ms> <cpuMs>"
 *   consume <endpoints> <topic> <group> <count> <batch>          prints "ready", then "done <ms> <cpuMs>" (receive + ack)
 */
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const [mode, endpoints, topic, ...rest] = process.argv.slice(2) as [string, string, string, ...string[]];
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

async function produce(): Promise<void> {
  const [count, bytes, concurrency] = rest.map(Number) as [number, number, number];
  const producer = new Producer({ endpoints, namespace: '', logger: quiet, topics: [topic] } as never);
  await producer.startup();
  const body = Buffer.alloc(bytes, 'r');
  await producer.send({ topic, body });
  const cpu0 = cpuMs();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        await producer.send({ topic, body });
      }
    }),
  );
  process.stdout.write(`done ${performance.now() - started} ${cpuMs() - cpu0}\n`);
  await producer.shutdown();
}

async function consume(): Promise<void> {
  const [group, countText, batchText] = rest as [string, string, string];
  const count = Number(countText);
  const consumer = new SimpleConsumer({ endpoints, namespace: '', logger: quiet, consumerGroup: group, subscriptions: new Map([[topic, '*']]), awaitDuration: 1000 } as never);
  await consumer.startup();
  process.stdout.write('ready\n');
  let got = 0;
  let started = 0;
  let cpu0 = 0;
  const lanes = 4;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (got < count) {
        const messages = await consumer.receive(Number(batchText), 30_000);
        if (messages.length > 0 && started === 0) {
          started = performance.now();
          cpu0 = cpuMs();
        }
        got += messages.length;
        await Promise.all(messages.map((m) => consumer.ack(m)));
      }
    }),
  );
  process.stdout.write(`done ${performance.now() - started} ${cpuMs() - cpu0}\n`);
  await consumer.shutdown();
}

await (mode === 'produce' ? produce() : consume());
process.exit(0);
