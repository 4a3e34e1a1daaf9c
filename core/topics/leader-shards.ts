import type { Clock } from '../clock.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { javaStringHash } from '../cluster/java-string-hash.ts';
import { BrokerError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { MetadataLog } from './metadata-log.ts';
import type { TopicRegistry } from './topic-registry.ts';

/** Where a key (a group, a transactional id) is coordinated, as a protocol needs to answer. */
export type Coordination =
  | { readonly state: 'here' }
  | { readonly state: 'loading' }
  | { readonly state: 'elsewhere'; readonly nodeId: number }
  | { readonly state: 'unavailable' };

export interface LeaderShardsOptions<V> {
  /** The replicated, compacted internal topic (`__consumer_offsets`, `__transaction_state`). */
  topic: string;
  partitions: number;
  /**
   * The topic's replicas and min.insync.replicas, each capped by the live brokers at creation (Kafka
   * refuses to create its internal topics until that many brokers are alive). Default: the cluster's
   * topic defaults.
   */
  replication?: { readonly factor: number; readonly minInsyncReplicas: number };
  /** A partition this broker has come to lead, replayed. */
  loaded(partition: number, log: MetadataLog<V>): void;
  /** A partition this broker no longer leads. */
  unloaded(partition: number): void;
}

/**
 * Cluster mode's coordinator placement, as Kafka's: a key belongs to partition abs(hash(key)) mod N of
 * a replicated compacted topic, and the leader of that partition coordinates it, replaying the
 * partition when it becomes leader (loading meanwhile) and dropping it when it stops. The topic is
 * created on first need.
 */
export class LeaderShards<V> {
  private readonly shards = new Map<number, MetadataLog<V>>();
  /** The leader epoch under which each loaded partition was taken over: Kafka's coordinator epoch. */
  private readonly loadedEpochs = new Map<number, number>();
  private readonly loading = new Set<number>();
  private readonly unsubscribe: Array<() => void> = [];
  private creatingTopic: Promise<void> | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly topics: TopicRegistry,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: LeaderShardsOptions<V>,
  ) {}

  open(): void {
    const { topic } = this.options;
    this.unsubscribe.push(
      this.cluster.onChange((change) => {
        if (change.partitions.some((p) => p.topic === topic)) this.reconcile();
      }),
      this.topics.onChange((event) => {
        if (event.topic.name === topic) this.reconcile();
      }),
    );
    this.reconcile();
  }

  close(): void {
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
  }

  /** Kafka's partitionFor: abs(key.hashCode) % partitions. */
  partitionFor(key: string): number {
    return (javaStringHash(key) & 0x7fffffff) % this.options.partitions;
  }

  shard(partition: number): MetadataLog<V> | undefined {
    return this.shards.get(partition);
  }

  loaded(): IterableIterator<[number, MetadataLog<V>]> {
    return this.shards.entries();
  }

  isLoading(partition: number): boolean {
    return this.loading.has(partition);
  }

  /**
   * Kafka's coordinator epoch: the partition's leader epoch when this broker loaded it, -1 when it has
   * not. A new leader epoch reloads the partition (Kafka's onElection), so a coordinator that lost and
   * regained the leadership works under the new epoch.
   */
  epoch(partition: number): number {
    return this.shards.has(partition) ? (this.loadedEpochs.get(partition) ?? -1) : -1;
  }

  private leaderEpoch(partition: number): number {
    return this.cluster.partitionState(this.options.topic, partition)?.leaderEpoch ?? -1;
  }

  /** Whether this broker coordinates the partition's keys now. */
  coordination(partition: number): Coordination {
    const state = this.cluster.partitionState(this.options.topic, partition);
    if (!state) {
      this.ensureTopic();
      return { state: 'unavailable' };
    }
    if (state.leader < 0) return { state: 'unavailable' };
    if (state.leader !== this.cluster.nodeId) return { state: 'elsewhere', nodeId: state.leader };
    if (!this.cluster.leads(this.options.topic, partition)) return { state: 'unavailable' };
    return this.shards.has(partition) && this.loadedEpochs.get(partition) === state.leaderEpoch ? { state: 'here' } : { state: 'loading' };
  }

  /** Loads the partitions this broker has come to lead and drops the ones it no longer leads. */
  private reconcile(): void {
    const { topic, partitions } = this.options;
    for (let p = 0; p < partitions; p++) {
      const leads = this.cluster.partitionState(topic, p) !== undefined && this.cluster.leads(topic, p);
      if (this.shards.has(p) && (!leads || this.loadedEpochs.get(p) !== this.leaderEpoch(p))) {
        this.shards.delete(p);
        this.logger.info({ topic, partition: p, newLeaderEpoch: leads }, 'no longer coordinating the keys of this partition');
        this.options.unloaded(p);
      }
      if (leads && !this.shards.has(p) && !this.loading.has(p)) this.load(p);
    }
  }

  private load(partition: number): void {
    const { topic } = this.options;
    const log = this.topics.log(topic, partition);
    if (!log) return;
    const started = this.clock.now();
    const epoch = this.leaderEpoch(partition);
    this.loading.add(partition);
    MetadataLog.load<V>(log)
      .then((metadata) => {
        if (!this.cluster.leads(topic, partition) || this.leaderEpoch(partition) !== epoch) return;
        this.shards.set(partition, metadata);
        this.loadedEpochs.set(partition, epoch);
        this.logger.info({ topic, partition, epoch, keys: metadata.size, ms: this.clock.now() - started }, 'loaded a coordinator partition');
        this.options.loaded(partition, metadata);
      })
      .catch((err: unknown) => this.logger.error({ err, topic, partition }, 'loading a coordinator partition failed'))
      .finally(() => {
        this.loading.delete(partition);
        this.reconcile();
      });
  }

  private ensureTopic(): void {
    const { topic, partitions, replication } = this.options;
    if (this.creatingTopic || this.topics.get(topic)) return;
    const factor = replication && Math.max(1, Math.min(replication.factor, this.cluster.topicStore?.liveBrokers() ?? 1));
    this.creatingTopic = this.topics
      .create(topic, {
        partitions,
        internal: true,
        replicated: true,
        ...(factor === undefined ? {} : { replicationFactor: factor }),
        config: {
          retentionMs: -1,
          segmentBytes: 16 * 1024 * 1024,
          flush: 'always',
          cleanupPolicy: 'compact',
          deleteRetentionMs: 0,
          ...(factor === undefined ? {} : { minInsyncReplicas: Math.min(replication!.minInsyncReplicas, factor) }),
        },
      })
      .then(() => this.logger.info({ topic, partitions }, 'created a coordinator topic'))
      .catch((err: unknown) => {
        if (!BrokerError.is(err, 'TOPIC_EXISTS')) this.logger.warn({ topic, err: (err as Error).message }, 'could not create a coordinator topic yet');
      })
      .finally(() => (this.creatingTopic = undefined));
  }
}
