import { definePlugin, TOKENS } from '../../core/index.ts';
import { streamConfigFields } from './stream-config.ts';
import { StreamServer } from './stream-server.ts';

/**
 * The RabbitMQ Stream protocol (port `stream.port`, 5552) over the core's topics: a stream is a topic
 * with one partition, so Kafka, AMQP 0-9-1 and stream clients read and write the same log.
 */
export function rabbitStream() {
  const server = new StreamServer();
  return definePlugin({
    name: 'rabbit-stream',
    requires: [TOKENS.TopicRegistry, TOKENS.OffsetStore, TOKENS.ListenerRegistry, TOKENS.Security],
    config: { name: 'stream', fields: streamConfigFields },
    async start(context) {
      await server.start(context);
    },
    async stop() {
      await server.stop();
    },
  });
}
