import {
  TcpListener,
  TOKENS,
  WHARF_HISTOGRAMS,
  type AdminEndpoints,
  type BrokerConfig,
  type Clock,
  type Cluster,
  type DiskMonitor,
  type GroupCoordinator,
  type HistogramSeries,
  type ListenerRegistry,
  type Metrics,
  type OffsetStore,
  type PluginContext,
  type TopicRegistry,
} from '../../core/index.ts';
import { kafkaAdminRoutes } from './admin-views.ts';
import { apisByKey } from './codec/index.ts';
import { consumerProtocolAdapter } from './consumer-protocol-adapter.ts';
import { KafkaConnection } from './kafka-connection.ts';
import { KafkaContext, type KafkaSettings } from './kafka-context.ts';
import { contributeKafkaMetrics } from './kafka-metrics.ts';
import { KafkaTraffic } from './kafka-traffic.ts';
import { ProducerIds } from './producer-ids.ts';
import { createDispatch } from './request-router.ts';

/** The Kafka listener, the context its handlers share, and its metrics and admin views. */
export class KafkaServer {
  private listener: TcpListener | undefined;
  private readonly detachers: Array<() => void> = [];

  async start({ container, section: settings, logger }: PluginContext<KafkaSettings>): Promise<void> {
    const config = container.get<BrokerConfig>(TOKENS.Config);
    const registry = container.get<ListenerRegistry>(TOKENS.ListenerRegistry);
    const cluster = container.get<Cluster>(TOKENS.Cluster);
    const coordinator = container.get<GroupCoordinator>(TOKENS.GroupCoordinator);
    const topics = container.get<TopicRegistry>(TOKENS.TopicRegistry);
    const offsets = container.get<OffsetStore>(TOKENS.OffsetStore);
    const metrics = container.get<Metrics>(TOKENS.Metrics);
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
    const traffic = new KafkaTraffic();
    this.detachers.push(
      topics.onChange((event) => event.type === 'deleted' && traffic.delete(event.topic.name)),
      contributeKafkaMetrics({ metrics, traffic, listener, topics, offsets, coordinator }),
      container.get<AdminEndpoints>(TOKENS.AdminEndpoints).add('kafka', kafkaAdminRoutes({ config, topics, cluster, offsets, coordinator })),
    );
    const port = registry.port('kafka');
    if (port === undefined) return;
    const node = { nodeId: config.nodeId, host: settings.advertisedHost || advertised(config.host), port };
    await cluster.advertise('kafka', { host: node.host, port: node.port });
    const context = new KafkaContext(
      settings,
      config,
      topics,
      coordinator,
      offsets,
      new ProducerIds(cluster),
      container.get<Clock>(TOKENS.Clock),
      logger,
      await cluster.clusterId(),
      node,
      container.get<DiskMonitor>(TOKENS.DiskMonitor),
      cluster,
      traffic,
    );
    const histogram = metrics.histogram(WHARF_HISTOGRAMS.requestDuration);
    const latency: Array<HistogramSeries | undefined> = [];
    dispatch = createDispatch(context, (apiKey) => (latency[apiKey] ??= histogram.labels({ protocol: 'kafka', api: apisByKey.get(apiKey)?.name ?? String(apiKey) })));
  }

  async stop(settings: KafkaSettings): Promise<void> {
    for (const detach of this.detachers.splice(0).reverse()) detach();
    await this.listener?.stop(settings.drainTimeoutMs);
    this.listener = undefined;
  }
}

/** librdkafka may resolve `localhost` to ::1, so clients are pointed at IPv4 loopback. */
function advertised(host: string): string {
  return host === 'localhost' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
