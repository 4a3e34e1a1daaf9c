import { Producer, PushConsumer, SimpleConsumer, type MessageView } from 'rocketmq-client-nodejs';
import { createBroker, type Broker } from '../../core/index.ts';
import { fsStorage } from '../../plugins/storage-fs/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';
import { rocket } from '../../plugins/rocket/index.ts';

export interface RocketTestBroker {
  broker: Broker;
  port: number;
  endpoints: string;
  stop(): Promise<void>;
}

/** A broker with the RocketMQ plugin on an OS-chosen loopback port; `config` adds core keys (security, allowAnonymous). */
export async function startRocket(options: { dataDir?: string; port?: number; rocket?: Record<string, unknown>; config?: Record<string, unknown> } = {}): Promise<RocketTestBroker> {
  const broker = await createBroker({
    plugins: [options.dataDir ? fsStorage() : memoryStorage(), rocket()],
    config: {
      logLevel: 'error',
      host: '127.0.0.1',
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      rocket: { port: options.port ?? 'auto', ...options.rocket },
      topics: { flush: 'never' },
      ...options.config,
    },
  });
  await broker.start();
  const port = broker.listeners().find((l) => l.protocol === 'rocketmq')!.port;
  return { broker, port, endpoints: `127.0.0.1:${port}`, stop: () => broker.stop() };
}

/** A silent logger for the official client (it logs to files and the console otherwise). */
export const quietLogger = { info() {}, warn() {}, error() {}, debug() {} };

export { Producer, PushConsumer, SimpleConsumer, type MessageView };

type ClientOptions = { endpoints: string; namespace: string; logger: never };
const base = (broker: RocketTestBroker): ClientOptions => ({ endpoints: broker.endpoints, namespace: '', logger: quietLogger as never });

/** A started producer (the official client). */
export async function producerFor(broker: RocketTestBroker, options: Record<string, unknown> = {}): Promise<Producer> {
  const producer = new Producer({ ...base(broker), ...options } as never);
  await producer.startup();
  return producer;
}

/** A started SimpleConsumer with `subscriptions` (topic -> tag expression or FilterExpression). */
export async function simpleConsumerFor(broker: RocketTestBroker, group: string, subscriptions: Map<string, unknown>, awaitDuration = 500): Promise<SimpleConsumer> {
  const consumer = new SimpleConsumer({ ...base(broker), consumerGroup: group, subscriptions, awaitDuration } as never);
  await consumer.startup();
  return consumer;
}

export async function pushConsumerFor(broker: RocketTestBroker, group: string, subscriptions: Map<string, unknown>, consume: (message: MessageView) => Promise<unknown>): Promise<PushConsumer> {
  const consumer = new PushConsumer({ ...base(broker), consumerGroup: group, subscriptions, messageListener: { consume }, longPollingTimeout: 1000 } as never);
  await consumer.startup();
  return consumer;
}

/** Receives until `count` messages arrived (acking none) or `timeoutMs` passed. */
export async function receiveAll(consumer: SimpleConsumer, count: number, timeoutMs = 10_000, invisibleMs = 30_000): Promise<MessageView[]> {
  const got: MessageView[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) got.push(...(await consumer.receive(Math.min(32, count - got.length), invisibleMs)));
  return got;
}

export const FILTER_SQL = 2;
export const COMMIT = 1;
export const ROLLBACK = 2;
