import { definePlugin, TOKENS } from '../../core/index.ts';
import { amqpConfigFields } from './amqp-config.ts';
import { AmqpServer } from './amqp-server.ts';

/** AMQP 0-9-1 with RabbitMQ's semantics on the core's storage. Listens on `amqp.port` (5672). */
export function rabbit() {
  const server = new AmqpServer();
  return definePlugin({
    name: 'rabbit',
    requires: [TOKENS.TopicRegistry, TOKENS.StorageEngine, TOKENS.ListenerRegistry],
    config: { name: 'amqp', fields: amqpConfigFields },
    start: (context) => server.start(context),
    stop: () => server.stop(),
  });
}
