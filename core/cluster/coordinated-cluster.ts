import { inject, injectable } from 'inversify';
import type { Clock } from '../clock.ts';
import type { BrokerConfig } from '../config.ts';
import { BrokerError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { TOKENS } from '../tokens.ts';
import { BrokerSession } from './broker-session.ts';
import type { Cluster, ClusterTopicStore } from './cluster.ts';
import { decode, encode, keys, type ClusterTopic, type Endpoint, type LiveBroker, type PartitionState, type StoredPartitionState } from './cluster-model.ts';
import { ClusterState, type ClusterChange } from './cluster-state.ts';
import { Controller } from './controller.ts';
import { del, delPrefix, put, type CoordinationBackend, type Operation } from './coordination.ts';
import { assignReplicas } from './leader-election.ts';
import { newClusterId } from './single-node-cluster.ts';
import { javaStringHash } from './java-string-hash.ts';

/** Partition keys written per transaction when a topic is created or grown. */
const PARTITIONS_PER_TXN = 100;

/**
 * Cluster mode: this broker's session (lease and registration), its watched copy of the metadata, the
 * controller role when elected, and the compare-and-swap writes brokers make themselves (topics, ISR
 * changes of the partitions they lead, id blocks).
 */
@injectable()
export class CoordinatedCluster implements Cluster, ClusterTopicStore {
  readonly clustered = true;
  readonly topicStore: ClusterTopicStore = this;
  readonly nodeId: number;
  readonly state: ClusterState;
  readonly session: BrokerSession;
  private readonly controller: Controller;
  private cachedClusterId: string | undefined;

  constructor(
    @inject(TOKENS.Coordination) private readonly backend: CoordinationBackend,
    @inject(TOKENS.Config) config: BrokerConfig,
    @inject(TOKENS.Clock) clock: Clock,
    @inject(TOKENS.Logger) rootLogger: Logger,
  ) {
    this.nodeId = config.nodeId;
    const logger = rootLogger.child({ component: 'cluster' });
    const replication = config.replication;
    this.state = new ClusterState(backend, logger);
    this.session = new BrokerSession(backend, { nodeId: this.nodeId, endpoints: {} }, clock, logger);
    this.controller = new Controller(backend, this.state, this.session, { uncleanLeaderElection: replication.uncleanLeaderElection, leaderRebalanceIntervalMs: replication.leaderRebalanceIntervalMs }, clock, logger);
  }

  get description(): string {
    return `cluster node ${this.nodeId} via ${this.backend.description}`;
  }

  get isController(): boolean {
    return this.controller.active;
  }

  /** Loads the metadata, registers this broker and joins the controller election (the backend's plugin connects it). */
  async start(): Promise<void> {
    await this.state.start();
    await this.session.start();
    await this.state.waitForRevision(this.session.epoch);
    this.controller.start();
  }

  /** Resigns the controller role and leaves the cluster (the lease goes, and with it the registration). */
  async stop(): Promise<void> {
    await this.controller.stop();
    await this.session.stop();
    this.state.stop();
  }

  topics(): ReadonlyMap<string, ClusterTopic> {
    return this.state.topics;
  }

  liveBrokers(): number {
    return this.state.brokers.size;
  }

  members(): readonly LiveBroker[] {
    return [...this.state.brokers.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  controllerId(): number {
    const controller = this.state.controller;
    if (controller && this.state.brokers.get(controller.nodeId)?.epoch === controller.brokerEpoch) return controller.nodeId;
    return this.members()[0]?.nodeId ?? this.nodeId;
  }

  advertise(name: string, endpoint: Endpoint): Promise<void> {
    return this.session.advertise(name, endpoint);
  }

  partitionState(topic: string, partition: number): PartitionState | undefined {
    return this.state.partition(topic, partition);
  }

  leads(topic: string, partition: number): boolean {
    if (!this.state.topics.has(topic)) return true;
    const state = this.state.partition(topic, partition);
    return state !== undefined && this.isLeaderIn(state);
  }

  /** Leader in this state under this broker's current registration, inside its lease. */
  isLeaderIn(state: PartitionState): boolean {
    if (state.leader !== this.nodeId || !this.session.valid) return false;
    return state.isr.some(([id, epoch]) => id === this.nodeId && epoch === this.session.epoch);
  }

  onChange(listener: (change: ClusterChange) => void): () => void {
    return this.state.onChange(listener);
  }

  async clusterId(): Promise<string> {
    if (this.cachedClusterId) return this.cachedClusterId;
    await this.backend.txn([{ key: keys.clusterId, createRevision: 0 }], [put(keys.clusterId, encode(newClusterId()))]);
    const stored = await this.backend.get(keys.clusterId);
    if (!stored) throw new BrokerError('INTERNAL', 'the cluster id vanished');
    this.cachedClusterId = decode<string>(stored.value);
    return this.cachedClusterId;
  }

  async reserveIds(name: string, count: number): Promise<number> {
    const key = keys.ids(name);
    for (;;) {
      const current = await this.backend.get(key);
      const first = current ? decode<number>(current.value) : 0;
      const result = await this.backend.txn([{ key, modRevision: current?.modRevision ?? 0 }], [put(key, encode(first + count))]);
      if (result.succeeded) return first;
      const after = await this.backend.get(key);
      if (after && after.modRevision === result.revision && decode<number>(after.value) === first + count) return first;
    }
  }

  /**
   * Creates a cluster topic: replicas spread over the live brokers, each partition led first by its
   * preferred replica. Resolves once this broker's copy of the metadata shows it.
   */
  async createTopic(topic: ClusterTopic, replicationFactor: number): Promise<void> {
    const live = this.members().map((b) => b.nodeId);
    if (replicationFactor < 1 || replicationFactor > live.length) {
      throw new BrokerError('INVALID_REPLICATION_FACTOR', `replication factor ${replicationFactor} is outside [1, ${live.length}] (live brokers)`);
    }
    const epochs = new Map(this.members().map((b) => [b.nodeId, b.epoch]));
    const start = Math.abs(javaStringHash(topic.name)) % live.length;
    const assignment = assignReplicas(live, topic.partitions, replicationFactor, start);
    const partitionOps = assignment.map((replicas, p) => put(keys.partition(topic.name, p), encode(initialState(replicas, epochs))));
    let revision = 0;
    for (let i = 0; i < Math.max(1, partitionOps.length); i += PARTITIONS_PER_TXN) {
      const chunk = partitionOps.slice(i, i + PARTITIONS_PER_TXN);
      const result =
        i === 0
          ? await this.backend.txn([{ key: keys.topic(topic.name), createRevision: 0 }], [put(keys.topic(topic.name), encode(topic)), ...chunk])
          : await this.backend.txn([], chunk);
      if (!result.succeeded) {
        const stored = await this.backend.get(keys.topic(topic.name));
        if (stored && decode<ClusterTopic>(stored.value).id === topic.id) {
          revision = Math.max(revision, stored.modRevision);
          continue;
        }
        throw new BrokerError('TOPIC_EXISTS', `topic ${topic.name} already exists`);
      }
      revision = result.revision;
    }
    await this.state.waitForRevision(revision);
  }

  async deleteTopic(name: string): Promise<void> {
    const result = await this.backend.txn([], [del(keys.topic(name)), delPrefix(keys.partitionsOf(name))]);
    await this.state.waitForRevision(result.revision);
  }

  /** Stores a changed descriptor (config, attributes); new partitions get replicas and states. */
  async updateTopic(topic: ClusterTopic, previousPartitions: number, replicationFactor: number): Promise<void> {
    const ops: Operation[] = [put(keys.topic(topic.name), encode(topic))];
    if (topic.partitions > previousPartitions) {
      const live = this.members().map((b) => b.nodeId);
      const epochs = new Map(this.members().map((b) => [b.nodeId, b.epoch]));
      const factor = Math.min(replicationFactor, live.length);
      const added = assignReplicas(live, topic.partitions - previousPartitions, factor, previousPartitions);
      added.forEach((replicas, i) => ops.push(put(keys.partition(topic.name, previousPartitions + i), encode(initialState(replicas, epochs)))));
    }
    let revision = 0;
    for (let i = 0; i < ops.length; i += PARTITIONS_PER_TXN) {
      const result = await this.backend.txn(
        i === 0 && topic.partitions > previousPartitions ? [{ key: keys.partition(topic.name, previousPartitions), createRevision: 0 }] : [],
        ops.slice(i, i + PARTITIONS_PER_TXN),
      );
      if (!result.succeeded) throw new BrokerError('INVALID_PARTITIONS', `topic ${topic.name} changed its partition count concurrently`);
      revision = result.revision;
    }
    await this.state.waitForRevision(revision);
  }

  /**
   * A change a partition's leader makes itself (ISR shrink or expansion, handing leadership over on
   * shutdown): applied only if the state is still `expected` and this broker's registration is the one
   * the change was decided under. Resolves with whether it applied.
   */
  async alterPartition(topic: string, partition: number, expected: PartitionState, next: StoredPartitionState): Promise<boolean> {
    if (!this.session.valid) return false;
    const result = await this.backend.txn(
      [
        { key: keys.partition(topic, partition), modRevision: expected.version },
        { key: keys.broker(this.nodeId), createRevision: this.session.epoch },
      ],
      [put(keys.partition(topic, partition), encode(next))],
    );
    if (result.succeeded) await this.state.waitForRevision(result.revision);
    return result.succeeded;
  }

  /** The replica ids a topic's partitions were created with (for a replication factor in answers). */
  replicationFactorOf(topic: string): number {
    return this.state.partition(topic, 0)?.replicas.length ?? 0;
  }
}

function initialState(replicas: readonly number[], epochs: ReadonlyMap<number, number>): StoredPartitionState {
  return { leader: replicas[0]!, leaderEpoch: 0, replicas, isr: replicas.map((id) => [id, epochs.get(id)!] as const) };
}
