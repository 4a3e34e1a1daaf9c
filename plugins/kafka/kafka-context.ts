import type { Clock, Cluster, DiskMonitor, GroupCoordinator, Logger, OffsetStore, PartitionLog, Security, TopicDescriptor, TopicRegistry, BrokerConfig, ValuesOf } from '../../core/index.ts';
import { coordinatorErrorOf, KafkaError, type KafkaErrorCode } from './error-codes.ts';
import { FetchSessionCache } from './fetch-sessions.ts';
import type { kafkaConfigFields } from './kafka-config.ts';
import type { CLOSE_CONNECTION, KafkaConnection } from './kafka-connection.ts';
import type { RequestHeader } from './codec/index.ts';
import type { ProducerIds } from './producer-ids.ts';
import type { KafkaTraffic } from './kafka-traffic.ts';
import type { TransactionCoordinator } from './transactions/transaction-coordinator.ts';
import { TopicIds } from './topic-ids.ts';
import { ClientQuotas } from './quotas/client-quotas.ts';

export type KafkaSettings = ValuesOf<typeof kafkaConfigFields>;

/** Where one of this broker's listeners is, as clients are told. */
export interface Endpoint {
  host: string;
  port: number;
}

/** This broker's id and where its listeners are: `kafka` (plaintext), `kafka-tls`. */
export interface NodeAddress {
  nodeId: number;
  endpoints: Readonly<Record<string, Endpoint>>;
}

/** Marks a request that gets no response (Produce with acks=0). */
export const NO_RESPONSE = Symbol('no response');

/** Marks a request answered by closing the connection once the replies before it are written (a refused acks=0 Produce). */
export { CLOSE_CONNECTION } from './kafka-connection.ts';

type Outcome<Res> = Res | typeof NO_RESPONSE | typeof CLOSE_CONNECTION;

/** A handler translates one decoded request into core calls and a response body. */
export type Handler<Req, Res> = (ctx: KafkaContext, request: Req, header: RequestHeader, connection: KafkaConnection) => Outcome<Res> | Promise<Outcome<Res>>;

/** What every handler may use: the core services and this broker's identity. */
export class KafkaContext {
  /** KIP-227 incremental fetch sessions, broker-wide as in Kafka. */
  readonly fetchSessions: FetchSessionCache;
  /** Produce and fetch byte-rate quotas: stored (opened with the server) and enforced by throttling. */
  readonly quotas = new ClientQuotas();
  /** Topic names by id, for the versions that name topics by id. */
  readonly topicIds: TopicIds;

  constructor(
    readonly settings: KafkaSettings,
    readonly brokerConfig: BrokerConfig,
    readonly topics: TopicRegistry,
    readonly coordinator: GroupCoordinator,
    readonly offsets: OffsetStore,
    readonly producerIds: ProducerIds,
    readonly clock: Clock,
    readonly logger: Logger,
    readonly clusterId: string,
    readonly node: NodeAddress,
    /** Read-only while the disk is below its free-space limit: produce answers KAFKA_STORAGE_ERROR. */
    readonly disk: DiskMonitor,
    readonly cluster: Cluster,
    readonly security: Security,
    /** Per-topic messages and bytes in and out, for the metrics registry. */
    readonly traffic: KafkaTraffic,
    /** The transaction coordinator (undefined only before the server opens it). */
    readonly transactions: TransactionCoordinator | undefined,
  ) {
    this.topicIds = new TopicIds(topics);
    this.fetchSessions = new FetchSessionCache({ slots: settings.fetchSessionCacheSlots, evictionMs: settings.fetchSessionEvictionMs }, clock);
  }

  /** Where broker `nodeId` serves `listener`: a client is told the addresses of the listener it came in on. */
  endpoint(nodeId: number, listener: string): Endpoint | undefined {
    if (nodeId === this.node.nodeId) return this.node.endpoints[listener];
    return this.cluster.members().find((m) => m.nodeId === nodeId)?.endpoints[listener];
  }

  /**
   * Why this broker cannot serve a group request (Kafka's NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
   * COORDINATOR_NOT_AVAILABLE), or undefined when it coordinates the group.
   */
  coordinatorError(group: string): KafkaErrorCode | undefined {
    return coordinatorErrorOf(this.offsets.coordination(group));
  }

  /** The live brokers' addresses on `listener` (a client on the TLS listener is told the TLS ones; on a single node: this broker). */
  liveBrokers(listener: string): Array<{ nodeId: number } & Endpoint> {
    const nodeIds = this.cluster.clustered ? this.cluster.members().map((m) => m.nodeId) : [this.node.nodeId];
    return nodeIds.flatMap((nodeId) => {
      const endpoint = this.endpoint(nodeId, listener);
      return endpoint ? [{ nodeId, ...endpoint }] : [];
    });
  }

  /** A topic Kafka clients may see: exists, is not some plugin's internal queue, and in a cluster is a cluster topic. */
  visibleTopic(name: string): TopicDescriptor | undefined {
    const topic = this.topics.get(name);
    return topic && !topic.internal && (topic.replicated || !this.cluster.clustered) ? topic : undefined;
  }

  /**
   * The partition's log if this broker leads it now, else Kafka's reason: unknown partition, no leader,
   * another leader, or a leader epoch the client has that is older or newer than this broker's.
   */
  leaderLog(topicName: string, partition: number, currentLeaderEpoch = -1): { log: PartitionLog; leaderEpoch: number } | { error: KafkaErrorCode } {
    const topic = this.visibleTopic(topicName);
    if (!topic || partition < 0 || partition >= topic.partitions) return { error: KafkaError.UNKNOWN_TOPIC_OR_PARTITION };
    const state = this.cluster.partitionState(topicName, partition);
    if (state) {
      if (currentLeaderEpoch >= 0 && currentLeaderEpoch < state.leaderEpoch) return { error: KafkaError.FENCED_LEADER_EPOCH };
      if (currentLeaderEpoch > state.leaderEpoch) return { error: KafkaError.UNKNOWN_LEADER_EPOCH };
      if (state.leader < 0) return { error: KafkaError.LEADER_NOT_AVAILABLE };
      if (!this.cluster.leads(topicName, partition)) return { error: KafkaError.NOT_LEADER_OR_FOLLOWER };
    }
    const log = this.topics.log(topicName, partition);
    if (!log) return { error: state ? KafkaError.NOT_LEADER_OR_FOLLOWER : KafkaError.UNKNOWN_TOPIC_OR_PARTITION };
    return { log, leaderEpoch: state?.leaderEpoch ?? 0 };
  }
}
