import {
  BrokerError,
  RequestMemory,
  TcpListener,
  TOKENS,
  WHARF_HISTOGRAMS,
  type AdminEndpoints,
  type BrokerConfig,
  type Clock,
  type Cluster,
  type ConnectionBudget,
  type CoordinationBackend,
  type DiskMonitor,
  type GroupCoordinator,
  type HistogramSeries,
  type ListenerRegistry,
  type Metrics,
  type OffsetStore,
  type Logger,
  type PluginContext,
  type Security,
  type StorageEngine,
  type TxnMarkerChannel,
  type TlsCredentials,
  type TopicRegistry,
} from '../../core/index.ts';
import { kafkaAdminRoutes } from './admin-views.ts';
import { apisByKey } from './codec/index.ts';
import { consumerProtocolAdapter } from './consumer-protocol-adapter.ts';
import { KafkaConnection } from './kafka-connection.ts';
import { KafkaContext, type Endpoint, type KafkaSettings } from './kafka-context.ts';
import { contributeKafkaMetrics } from './kafka-metrics.ts';
import { KafkaTraffic } from './kafka-traffic.ts';
import { ProducerIds } from './producer-ids.ts';
import { createDispatch } from './request-router.ts';
import { KafkaSession, type SaslSettings } from './security/kafka-session.ts';
import { PRE_AUTHENTICATION_MAX_BYTES } from './security/sasl.ts';
import { SUPPORTED_MECHANISMS } from './security/sasl-mechanisms.ts';
import { TransactionCoordinator } from './transactions/transaction-coordinator.ts';
import { TransactionStateTopic } from './transactions/transaction-state-topic.ts';

/** The Kafka listeners (plaintext `kafka`, TLS `kafka-tls`), the context their handlers share, and its metrics and admin views. */
export class KafkaServer {
  private listeners: TcpListener[] = [];
  private readonly detachers: Array<() => void> = [];
  private transactions: TransactionCoordinator | undefined;

  /** Binds, builds everything requests need, advertises the listeners to the cluster, then serves. */
  async start({ container, section: settings, logger }: PluginContext<KafkaSettings>): Promise<void> {
    const config = container.get<BrokerConfig>(TOKENS.Config);
    const cluster = container.get<Cluster>(TOKENS.Cluster);
    const coordinator = container.get<GroupCoordinator>(TOKENS.GroupCoordinator);
    const topics = container.get<TopicRegistry>(TOKENS.TopicRegistry);
    const offsets = container.get<OffsetStore>(TOKENS.OffsetStore);
    const metrics = container.get<Metrics>(TOKENS.Metrics);
    coordinator.registerAdapter(consumerProtocolAdapter);
    const security = container.get<Security>(TOKENS.Security);
    const sasl: SaslSettings = { mechanisms: saslMechanisms(settings.saslMechanisms), maxReauthMs: settings.connectionsMaxReauthMs };
    const tls = container.get<TlsCredentials>(TOKENS.Tls);
    const registry = container.get<ListenerRegistry>(TOKENS.ListenerRegistry);
    const listen = (protocol: string, port: number | 'auto', secure: boolean): TcpListener =>
      new TcpListener({
        protocol,
        host: config.host,
        port,
        maxConnections: settings.maxConnections,
        budget: container.get<ConnectionBudget>(TOKENS.ConnectionBudget),
        idleTimeoutMs: settings.idleTimeoutMs,
        logger,
        registry,
        ...(secure ? { tls: { credentials: tls, mode: 'tls' as const } } : {}),
      });
    const wanted = [
      ...(settings.port !== 0 ? [listen('kafka', settings.port, false)] : []),
      ...(tls.enabled && settings.tlsPort !== 0 ? [listen('kafka-tls', settings.tlsPort, true)] : []),
    ];
    this.listeners = wanted;
    const host = settings.advertisedHost || advertised(config.host);
    const endpoints: Record<string, Endpoint> = {};
    for (const listener of wanted) endpoints[listener.protocol] = { host, port: (await listener.bind())! };
    if (wanted.length === 0) return;
    const node = { nodeId: config.nodeId, endpoints };
    const traffic = new KafkaTraffic();
    const clock = container.get<Clock>(TOKENS.Clock);
    const producerIds = new ProducerIds(cluster);
    const transactionDeps = {
      topics,
      offsets,
      producerIds,
      clock,
      logger,
      settings: {
        maxTimeoutMs: settings.transactionMaxTimeoutMs,
        abortTimedOutIntervalMs: settings.transactionAbortCheckMs,
        idExpirationMs: settings.transactionalIdExpirationMs,
        removeExpiredIntervalMs: settings.transactionRemoveExpiredCheckMs,
      },
      markers: container.get<TxnMarkerChannel>(TOKENS.TxnMarkers),
    };
    if (cluster.clustered) {
      const state = new TransactionStateTopic(
        cluster,
        topics,
        settings.transactionLogPartitions,
        { factor: settings.transactionLogReplicationFactor, minInsyncReplicas: settings.transactionLogMinIsr },
        clock,
        logger,
      );
      this.detachers.push(() => state.close());
      this.transactions = TransactionCoordinator.openClustered(state, transactionDeps);
    } else {
      this.transactions = await TransactionCoordinator.open(container.get<StorageEngine>(TOKENS.StorageEngine), config.topics.flush, transactionDeps);
    }
    this.detachers.push(
      topics.onChange((event) => event.type === 'deleted' && traffic.delete(event.topic.name)),
      contributeKafkaMetrics({ metrics, traffic, listeners: wanted, topics, offsets, coordinator }),
      container.get<AdminEndpoints>(TOKENS.AdminEndpoints).add('kafka', kafkaAdminRoutes({ config, topics, cluster, offsets, coordinator })),
    );
    const context = new KafkaContext(
      settings,
      config,
      topics,
      coordinator,
      offsets,
      producerIds,
      clock,
      logger,
      await cluster.clusterId(),
      node,
      container.get<DiskMonitor>(TOKENS.DiskMonitor),
      cluster,
      security,
      traffic,
      this.transactions,
    );
    this.detachers.push(() => context.topicIds.close());
    const coordination = cluster.clustered ? { backend: container.get<CoordinationBackend>(TOKENS.Coordination), logger } : undefined;
    await context.quotas.open(container.get<StorageEngine>(TOKENS.StorageEngine), coordination);
    this.detachers.push(() => context.quotas.close());
    const histogram = metrics.histogram(WHARF_HISTOGRAMS.requestDuration);
    const latency: Array<HistogramSeries | undefined> = [];
    const dispatch = createDispatch(context, (apiKey) => (latency[apiKey] ??= histogram.labels({ protocol: 'kafka', api: apisByKey.get(apiKey)?.name ?? String(apiKey) })));
    const memory = new RequestMemory(settings.queuedMaxRequestBytes);
    const connectionOptions = {
      maxRequestBytes: settings.maxRequestBytes,
      maxInFlight: settings.maxInFlightRequests,
      memory,
      stalledRequestTimeoutMs: settings.stalledRequestTimeoutMs,
      dispatch,
    };
    for (const [listener, endpoint] of Object.entries(endpoints)) await cluster.advertise(listener, endpoint);
    for (const listener of wanted) registry.describeAccess(listener.protocol, accessDescription(sasl, security.anonymousAllowed));
    if (!security.anonymousAllowed && sasl.mechanisms.length === 0) logger.warn('anonymous access is not allowed and SASL is off: no Kafka client can use this listener');
    // Before authentication requests are small (Kafka's sasl.server.max.receive.size), unless anonymous clients may send anything.
    const unauthenticatedBytes = security.anonymousAllowed ? settings.maxRequestBytes : PRE_AUTHENTICATION_MAX_BYTES;
    for (const listener of wanted) {
      listener.serve(
        (socket, id, connectionLogger: Logger) =>
          new KafkaConnection(socket, id, { ...connectionOptions, listener: listener.protocol, logger: connectionLogger }, new KafkaSession(security, sasl, socket.remoteAddress), unauthenticatedBytes),
      );
    }
  }

  async stop(settings: KafkaSettings): Promise<void> {
    for (const detach of this.detachers.splice(0).reverse()) detach();
    await Promise.all(this.listeners.map((listener) => listener.stop(settings.drainTimeoutMs)));
    this.listeners = [];
    await this.transactions?.close();
    this.transactions = undefined;
  }
}

/** `--kafka-sasl-mechanisms`: a comma-separated list of the mechanisms Wharf implements. */
export function saslMechanisms(text: string): string[] {
  const mechanisms = text.split(',').map((m) => m.trim().toUpperCase()).filter((m) => m !== '' && m !== 'NONE');
  for (const m of mechanisms) {
    if (!(SUPPORTED_MECHANISMS as readonly string[]).includes(m)) throw new BrokerError('CONFIG_INVALID', `kafka.saslMechanisms: unknown SASL mechanism ${m} (supported: ${SUPPORTED_MECHANISMS.join(', ')})`);
  }
  return [...new Set(mechanisms)];
}

/** For the readiness line: what a client must do to use the listener. */
export function accessDescription(sasl: SaslSettings, anonymousAllowed: boolean): string {
  const mechanisms = sasl.mechanisms.length > 0 ? `SASL ${sasl.mechanisms.join('/')}` : '';
  if (anonymousAllowed) return mechanisms ? `${mechanisms} or anonymous` : 'anonymous';
  return mechanisms ? `${mechanisms} required` : 'closed: no SASL and no anonymous access';
}

/** librdkafka may resolve `localhost` to ::1, so clients are pointed at IPv4 loopback. */
function advertised(host: string): string {
  return host === 'localhost' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
