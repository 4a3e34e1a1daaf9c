import { definePlugin, TOKENS } from '../../core/index.ts';
import { amqpConfigFields } from './amqp-config.ts';
import { AmqpServer } from './amqp-server.ts';
import { attachOperations } from './operations.ts';

/**
 * AMQP 0-9-1 with RabbitMQ's semantics on the core's storage. Listens on `amqp.port` (5672); contributes
 * RabbitMQ's management API and metric families to the core's admin endpoints and metrics registry.
 */
export function rabbit() {
  const server = new AmqpServer();
  let detach: (() => void) | undefined;
  return definePlugin({
    name: 'rabbit',
    requires: [TOKENS.TopicRegistry, TOKENS.StorageEngine, TOKENS.ListenerRegistry, TOKENS.Metrics, TOKENS.AdminEndpoints],
    config: { name: 'amqp', fields: amqpConfigFields },
    async start(context) {
      await server.start(context);
      detach = await attachOperations(server, context);
    },
    async stop() {
      detach?.();
      detach = undefined;
      await server.stop();
    },
  });
}
