import amqp from 'amqplib';
import { createBroker, type Broker } from '../../core/index.ts';
import { fsStorage } from '../../plugins/storage-fs/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';
import { rabbit } from '../../plugins/rabbit/index.ts';

export interface AmqpTestBroker {
  broker: Broker;
  port: number;
  url: string;
  connect(options?: { user?: string; password?: string; vhost?: string; heartbeat?: number }): Promise<amqp.ChannelModel>;
  stop(): Promise<void>;
}

/** A broker with the AMQP plugin on an OS-chosen loopback port. */
export async function startAmqp(options: { dataDir?: string; port?: number; amqp?: Record<string, unknown>; topics?: Record<string, unknown> } = {}): Promise<AmqpTestBroker> {
  const broker = await createBroker({
    plugins: [options.dataDir ? fsStorage() : memoryStorage(), rabbit()],
    config: {
      logLevel: 'error',
      host: '127.0.0.1',
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      amqp: { port: options.port ?? 'auto', ...options.amqp },
      topics: { flush: 'never', ...options.topics },
    },
  });
  await broker.start();
  const port = broker.listeners().find((l) => l.protocol === 'amqp')!.port;
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  return {
    broker,
    port,
    url,
    connect: ({ user = 'guest', password = 'guest', vhost = '/', heartbeat } = {}) =>
      amqp.connect({ protocol: 'amqp', hostname: '127.0.0.1', port, username: user, password, vhost, ...(heartbeat === undefined ? {} : { heartbeat }) }),
    stop: () => broker.stop(),
  };
}

/** Collects messages from a queue until `count` arrived. */
export async function consumeN(channel: amqp.Channel, queue: string, count: number, options: amqp.Options.Consume = { noAck: true }, timeoutMs = 10_000): Promise<amqp.ConsumeMessage[]> {
  const got: amqp.ConsumeMessage[] = [];
  let tag = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} messages from ${queue}`)), timeoutMs);
    void channel
      .consume(queue, (m) => {
        if (!m) return;
        got.push(m);
        if (got.length === count) {
          clearTimeout(timer);
          resolve();
        }
      }, options)
      .then((ok) => (tag = ok.consumerTag));
  });
  await channel.cancel(tag);
  return got;
}

export const text = (m: { content: Buffer }): string => m.content.toString();
