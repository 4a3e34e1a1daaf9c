import type { ClusterChange } from './cluster-state.ts';
import type { ClusterTopic, Endpoint, LiveBroker, PartitionState } from './cluster-model.ts';

/**
 * Who leads what, as protocols and core services ask it. On a single node this broker is the only
 * member, the controller, and the leader of everything; in cluster mode the answers come from the
 * coordination store. Protocols never talk to the store themselves.
 */
export interface Cluster {
  /** False on a single node (no coordination backend). */
  readonly clustered: boolean;
  readonly nodeId: number;
  /** For the readiness line and logs. */
  readonly description: string;
  /** Live brokers, lowest id first. */
  members(): readonly LiveBroker[];
  /** The elected controller, or while an election runs, the lowest live broker id: always a live member. */
  controllerId(): number;
  /** Adds a named endpoint (a protocol listener) to this broker's registration, for other brokers' answers. */
  advertise(name: string, endpoint: Endpoint): Promise<void>;
  /** A cluster topic partition's replication state; undefined on a single node or for a node-local topic. */
  partitionState(topic: string, partition: number): PartitionState | undefined;
  /** Whether this broker may act as the partition's leader now. Always true for node-local topics. */
  leads(topic: string, partition: number): boolean;
  onChange(listener: (change: ClusterChange) => void): () => void;
  /** The cluster's id (Kafka's ClusterId), the same on every member and across restarts. */
  clusterId(): Promise<string>;
  /** Reserves `count` ids unique across the cluster and its restarts; resolves with the first. */
  reserveIds(name: string, count: number): Promise<number>;
  /** Cluster mode only: where the topic registry keeps cluster topics. */
  readonly topicStore?: ClusterTopicStore;
}

/** What the topic registry needs of the cluster to keep cluster topics there. */
export interface ClusterTopicStore {
  readonly nodeId: number;
  topics(): ReadonlyMap<string, ClusterTopic>;
  partitionState(topic: string, partition: number): PartitionState | undefined;
  liveBrokers(): number;
  createTopic(topic: ClusterTopic, replicationFactor: number): Promise<void>;
  deleteTopic(name: string): Promise<void>;
  /** Stores a changed descriptor; partitions beyond `previousPartitions` get `replicationFactor` replicas. */
  updateTopic(topic: ClusterTopic, previousPartitions: number, replicationFactor: number): Promise<void>;
  replicationFactorOf(topic: string): number;
  onChange(listener: (change: ClusterChange) => void): () => void;
}
