import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { createBroker, type Broker } from '../../core/index.ts';
import { kafka } from '../../plugins/kafka/index.ts';
import { fsStorage } from '../../plugins/storage-fs/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';

export interface KafkaTestBroker {
  broker: Broker;
  port: number;
  brokers: string[];
  client(options?: Partial<KafkaConfig>): Kafka;
  stop(): Promise<void>;
}

/** A broker with the Kafka plugin on an OS-chosen loopback port, tuned for fast group tests. */
export async function startKafka(options: { dataDir?: string; port?: number; kafka?: Record<string, unknown>; groups?: Record<string, unknown>; topics?: Record<string, unknown>; config?: Record<string, unknown> } = {}): Promise<KafkaTestBroker> {
  const broker = await createBroker({
    plugins: [options.dataDir ? fsStorage() : memoryStorage(), kafka()],
    config: {
      logLevel: 'error',
      host: '127.0.0.1',
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      kafka: { port: options.port ?? 'auto', ...options.kafka },
      groups: { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 1000, ...options.groups },
      topics: { flush: 'never', ...options.topics },
      ...options.config,
    },
  });
  await broker.start();
  const port = broker.listeners().find((l) => l.protocol === 'kafka')!.port;
  const brokers = [`127.0.0.1:${port}`];
  return {
    broker,
    port,
    brokers,
    client: (config = {}) => new Kafka({ clientId: 'wharf-test', brokers, logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 }, ...config }),
    stop: () => broker.stop(),
  };
}

/** Resolves once `predicate` holds, polling; rejects after `timeoutMs`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
