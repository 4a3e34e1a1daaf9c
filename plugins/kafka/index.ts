import { definePlugin, TOKENS } from '../../core/index.ts';
import { kafkaConfigFields } from './kafka-config.ts';
import { KafkaServer } from './kafka-server.ts';

export { consumerProtocolAdapter } from './consumer-protocol-adapter.ts';

/** The Apache Kafka wire protocol on the core's topics, groups and offsets. Listens on `kafka.port` (9092). */
export function kafka() {
  const server = new KafkaServer();
  return definePlugin({
    name: 'kafka',
    requires: [TOKENS.TopicRegistry, TOKENS.GroupCoordinator, TOKENS.OffsetStore, TOKENS.ListenerRegistry, TOKENS.Metrics, TOKENS.AdminEndpoints],
    config: { name: 'kafka', fields: kafkaConfigFields },
    start: (context) => server.start(context),
    stop: ({ section }) => server.stop(section),
  });
}
