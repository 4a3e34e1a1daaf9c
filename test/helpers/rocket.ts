import { Producer, SimpleConsumer, PushConsumer } from 'rocketmq-client-nodejs';
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

/** A broker with the RocketMQ plugin on an OS-chosen loopback port. */
export async function startRocket(options: { dataDir?: string; port?: number; rocket?: Record<string, unknown> } = {}): Promise<RocketTestBroker> {
  const broker = await createBroker({
    plugins: [options.dataDir ? fsStorage() : memoryStorage(), rocket()],
    config: {
      logLevel: 'error',
      host: '127.0.0.1',
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      rocket: { port: options.port ?? 'auto', ...options.rocket },
      topics: { flush: 'never' },
    },
  });
  await broker.start();
  const port = broker.listeners().find((l) => l.protocol === 'rocketmq')!.port;
  return { broker, port, endpoints: `127.0.0.1:${port}`, stop: () => broker.stop() };
}

/** A silent logger for the official client (it logs to files and the console otherwise). */
export const quietLogger = { info() {}, warn() {}, error() {}, debug() {} };

export { Producer, SimpleConsumer, PushConsumer };
