import { randomUUID } from 'node:crypto';
import {
  MetadataLog,
  RequestMemory,
  TcpListener,
  TOKENS,
  type BrokerConfig,
  type Clock,
  type ConnectionBudget,
  type GroupCoordinator,
  type ListenerRegistry,
  type OffsetStore,
  type PluginContext,
  type StorageEngine,
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
    const engine = container.get<StorageEngine>(TOKENS.StorageEngine);
    const coordinator = container.get<GroupCoordinator>(TOKENS.GroupCoordinator);
    coordinator.registerAdapter(consumerProtocolAdapter);
    if (settings.port === 0) return;
    const producerIds = await ProducerIds.open(engine);
    const cluster = await clusterId(engine);
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
    const context = new KafkaContext(
      settings,
      config,
      container.get<TopicRegistry>(TOKENS.TopicRegistry),
      coordinator,
      container.get<OffsetStore>(TOKENS.OffsetStore),
      producerIds,
      container.get<Clock>(TOKENS.Clock),
      logger,
      cluster,
      { nodeId: settings.nodeId, host: settings.advertisedHost || advertised(config.host), port },
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

async function clusterId(engine: StorageEngine): Promise<string> {
  const store = await MetadataLog.open<string>(engine, 'kafka-cluster');
  let id = store.get('cluster-id');
  if (id === undefined) {
    id = Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
    await store.put('cluster-id', id);
  }
  return id;
}
