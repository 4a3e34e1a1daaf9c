import {
  BrokerError,
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
  type Security,
  type TopicRegistry,
} from '../../core/index.ts';
import { consumerProtocolAdapter } from './consumer-protocol-adapter.ts';
import { KafkaConnection } from './kafka-connection.ts';
import { KafkaContext, type KafkaSettings } from './kafka-context.ts';
import { ProducerIds } from './producer-ids.ts';
import { createDispatch } from './request-router.ts';
import { KafkaSession, type SaslSettings } from './security/kafka-session.ts';
import { PRE_AUTHENTICATION_MAX_BYTES } from './security/sasl.ts';
import { SUPPORTED_MECHANISMS } from './security/sasl-mechanisms.ts';

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
    const security = container.get<Security>(TOKENS.Security);
    const sasl: SaslSettings = { mechanisms: saslMechanisms(settings.saslMechanisms), maxReauthMs: settings.connectionsMaxReauthMs };
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
      security,
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
    registry.describeAccess('kafka', accessDescription(sasl, security.anonymousAllowed));
    if (!security.anonymousAllowed && sasl.mechanisms.length === 0) logger.warn('anonymous access is not allowed and SASL is off: no Kafka client can use this listener');
    // Before authentication requests are small (Kafka's sasl.server.max.receive.size), unless anonymous clients may send anything.
    const unauthenticatedBytes = security.anonymousAllowed ? settings.maxRequestBytes : PRE_AUTHENTICATION_MAX_BYTES;
    listener.serve(
      (socket, id, connectionLogger) =>
        new KafkaConnection(socket, id, { ...connectionOptions, logger: connectionLogger }, new KafkaSession(security, sasl, socket.remoteAddress), unauthenticatedBytes),
    );
  }

  async stop(settings: KafkaSettings): Promise<void> {
    await this.listener?.stop(settings.drainTimeoutMs);
    this.listener = undefined;
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
