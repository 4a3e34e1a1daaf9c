import { connect, type Client } from 'rabbitmq-stream-js-client';
import { createBroker, type Broker } from '../../core/index.ts';
import { rabbitStream } from '../../plugins/rabbit-stream/index.ts';
import { fsStorage } from '../../plugins/storage-fs/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';
import type { BrokerPlugin } from '../../core/index.ts';

export interface StreamTestBroker {
  broker: Broker;
  port: number;
  connect(options?: { username?: string; password?: string; vhost?: string }): Promise<Client>;
  stop(): Promise<void>;
}

/** A broker with the stream plugin (and any others) on OS-chosen loopback ports. */
export async function startStream(options: { dataDir?: string; stream?: Record<string, unknown>; plugins?: BrokerPlugin[]; config?: Record<string, unknown> } = {}): Promise<StreamTestBroker> {
  const broker = await createBroker({
    plugins: [options.dataDir ? fsStorage() : memoryStorage(), rabbitStream(), ...(options.plugins ?? [])],
    config: {
      logLevel: 'error',
      host: '127.0.0.1',
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      stream: { port: 'auto', ...options.stream },
      topics: { flush: 'never' },
      ...options.config,
    },
  });
  await broker.start();
  const port = broker.listeners().find((l) => l.protocol === 'rabbitmq-stream')!.port;
  return {
    broker,
    port,
    connect: ({ username = 'guest', password = 'guest', vhost = '/' } = {}) => connect({ hostname: '127.0.0.1', port, username, password, vhost }),
    stop: () => broker.stop(),
  };
}
