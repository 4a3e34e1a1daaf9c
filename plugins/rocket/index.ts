import { definePlugin, TOKENS } from '../../core/index.ts';
import { rocketConfigFields } from './rocket-config.ts';
import { RocketServer } from './rocket-server.ts';

/** RocketMQ 5 (gRPC, apache.rocketmq.v2) with RocketMQ's semantics on the core's storage. Listens on `rocket.port` (8081). */
export function rocket() {
  const server = new RocketServer();
  return definePlugin({
    name: 'rocket',
    requires: [TOKENS.TopicRegistry, TOKENS.StorageEngine, TOKENS.ListenerRegistry, TOKENS.AssignorRegistry, TOKENS.Metrics, TOKENS.AdminEndpoints],
    config: { name: 'rocket', fields: rocketConfigFields },
    start: (context) => server.start(context),
    stop: () => server.stop(),
  });
}
