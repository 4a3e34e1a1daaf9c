import {
  TcpListener,
  TOKENS,
  type BrokerConfig,
  type Clock,
  type Cluster,
  type DiskMonitor,
  type GroupCoordinator,
  type ListenerRegistry,
  type OffsetStore,
  type PluginContext,
  type TopicRegistry,
} from '../../core/index.ts';
import { consumerProtocolAdapter } from './consumer-protocol-adapter.ts';
import { KafkaConnection } from './kafka-connection.ts';
import { KafkaContext, type KafkaSettings } from './kafka-context.ts';
import { ProducerIds } from './producer-ids.ts';
import { createDispatch } from './request-router.ts';

/** The Kafka listener and the context its handlers share. */
export class KafkaServer {
  private listener: TcpListener | undefined;

  async start({ container, section: settings, logger }: PluginContext<KafkaSettings>): Promise<void> {
    const config = container.get<BrokerConfig>(TOKENS.Config);
    const registry = container.get<ListenerRegistry>(TOKENS.ListenerRegistry);
    const cluster = container.get<Cluster>(TOKENS.Cluster);
    const coordinator = container.get<GroupCoordinator>(TOKENS.GroupCoordinator);
    coordinator.registerAdapter(consumerProtocolAdapter);
    let dispatch: ReturnType<typeof createDispatch> | undefined;
    const listener = new TcpListener({
      protocol: 'kafka',
      host: config.host,
      port: settings.port,
      maxConnections: settings.maxConnections,
      idleTimeoutMs: settings.idleTimeoutMs,
      logger,
      registry,
      accept: (socket, id, connectionLogger) =>
        new KafkaConnection(socket, id, { maxRequestBytes: settings.maxRequestBytes, maxInFlight: settings.maxInFlightRequests, dispatch: dispatch!, logger: connectionLogger }),
    });
    await listener.start();
    this.listener = listener;
    const port = registry.port('kafka');
    if (port === undefined) return;
    const node = { nodeId: config.nodeId, host: settings.advertisedHost || advertised(config.host), port };
    await cluster.advertise('kafka', { host: node.host, port: node.port });
    const context = new KafkaContext(
      settings,
      config,
      container.get<TopicRegistry>(TOKENS.TopicRegistry),
      coordinator,
      container.get<OffsetStore>(TOKENS.OffsetStore),
      new ProducerIds(cluster),
      container.get<Clock>(TOKENS.Clock),
      logger,
      await cluster.clusterId(),
      node,
      container.get<DiskMonitor>(TOKENS.DiskMonitor),
      cluster,
    );
    dispatch = createDispatch(context);
  }

  async stop(settings: KafkaSettings): Promise<void> {
    await this.listener?.stop(settings.drainTimeoutMs);
    this.listener = undefined;
  }
}

/** librdkafka may resolve `localhost` to ::1, so clients are pointed at IPv4 loopback. */
function advertised(host: string): string {
  return host === 'localhost' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
