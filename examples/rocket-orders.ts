/**
 * FIFO order events over RocketMQ 5: each order's events share a message group, so a FIFO consumer
 * group sees them in order, while different orders proceed in parallel.
 * Run: npx tsx examples/rocket-orders.ts
 */
import { ConsumeResult, Producer, PushConsumer, type MessageView } from 'rocketmq-client-nodejs';
import { createBroker } from '../core/index.ts';
import { rocket } from '../plugins/rocket/index.ts';
import { memoryStorage } from '../plugins/storage-memory/index.ts';

const broker = await createBroker({
  plugins: [memoryStorage(), rocket()],
  config: {
    logLevel: 'warn',
    host: '127.0.0.1',
    rocket: { port: 'auto', topics: { orders: 'FIFO' }, groups: { 'order-processor': { fifo: true } }, maxLongPollingMs: 1000 },
  },
});
await broker.start();
const endpoints = `127.0.0.1:${broker.listeners().find((l) => l.protocol === 'rocketmq')!.port}`;
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

const steps = ['created', 'paid', 'packed', 'shipped'];
const orders = ['order-1', 'order-2', 'order-3'];
const seen = new Map<string, string[]>(orders.map((o) => [o, []]));
let remaining = steps.length * orders.length;
let allSeen: () => void;
const done = new Promise<void>((resolve) => (allSeen = resolve));

const consumer = new PushConsumer({
  endpoints,
  namespace: '',
  logger: quiet,
  consumerGroup: 'order-processor',
  subscriptions: new Map([['orders', '*']]),
  messageListener: {
    async consume(message: MessageView) {
      seen.get(message.messageGroup!)!.push(message.body.toString());
      if (--remaining === 0) allSeen();
      return ConsumeResult.SUCCESS;
    },
  },
} as never);
await consumer.startup();

const producer = new Producer({ endpoints, namespace: '', logger: quiet, topics: ['orders'] } as never);
await producer.startup();
for (const step of steps) for (const order of orders) await producer.send({ topic: 'orders', messageGroup: order, tag: step, body: Buffer.from(step) });

await done;
for (const [order, events] of seen) console.log(`${order}: ${events.join(' -> ')}`);
await producer.shutdown();
await consumer.shutdown();
await broker.stop();
// rocketmq-client-nodejs 1.0.8's PushConsumer leaves timers behind after shutdown(), so end explicitly.
process.exit(0);
