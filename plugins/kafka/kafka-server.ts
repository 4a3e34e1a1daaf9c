import {
  RequestMemory,
  TcpListener,
  TOKENS,
  type BrokerConfig,
  type Clock,
  type Cluster,
  type ConnectionBudget,
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

  /** Binds, builds everything requests need, advertises the listener to the cluster, then serves. */
  async start({ container, section: settings, logger }: PluginContext<KafkaSettings>): Promise<void> {
    const config = container.get<BrokerConfig>(TOKENS.Config);
    const registry = container.get<ListenerRegistry>(TOKENS.ListenerRegistry);
    const cluster = container.get<Cluster>(TOKENS.Cluster);
    const coordinator = container.get<GroupCoordinator>(TOKENS.GroupCoordinator);
    coordinator.registerAdapter(consumerProtocolAdapter);
    if (settings.port === 0) return;
    const listener = (this.listener = new TcpListener({
      protocol: 'kafka',
      host: config.host,
      port: settings.port,
      maxConnections: settings.maxConnections,
      budget: container.get<ConnectionBudget>(TOKENS.ConnectionBudget),
      idleTimeoutMs: settings.idleTimeoutMs,
      logger,
      registry,
    }));
    const port = await listener.bind();
    if (port === undefined) return;
    const node = { nodeId: config.nodeId, host: settings.advertisedHost || advertised(config.host), port };
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
    const dispatch = createDispatch(context);
    const memory = new RequestMemory(settings.queuedMaxRequestBytes);
    const connectionOptions = {
      maxRequestBytes: settings.maxRequestBytes,
      maxInFlight: settings.maxInFlightRequests,
      memory,
      stalledRequestTimeoutMs: settings.stalledRequestTimeoutMs,
      dispatch,
    };
    await cluster.advertise('kafka', { host: node.host, port: node.port });
    listener.serve((socket, id, connectionLogger) => new KafkaConnection(socket, id, { ...connectionOptions, logger: connectionLogger }));
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
