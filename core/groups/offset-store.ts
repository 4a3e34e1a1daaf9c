import { inject, injectable } from 'inversify';
import type { TopicPartition } from '../assignment/assignor.ts';
import type { Clock } from '../clock.ts';
import type { Cluster } from '../cluster/cluster.ts';
import type { BrokerConfig } from '../config.ts';
import { BrokerError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { ChangeMark } from '../metrics/change-mark.ts';
import type { StorageEngine } from '../storage/partition-log.ts';
import { TOKENS } from '../tokens.ts';
import { MetadataLog } from '../topics/metadata-log.ts';
import type { TopicRegistry } from '../topics/topic-registry.ts';

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  commitTimestamp: number;
}

export interface OffsetCommit {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch?: number;
  metadata?: string | null;
}

export interface GroupOffset extends CommittedOffset {
  topic: string;
  partition: number;
}

/** A committed offset as the store keeps it: a commit replaces the object, never changes it. */
export interface StoredOffset extends GroupOffset {
  group: string;
}

/** Where a group is coordinated, as a protocol needs to answer. */
export type Coordination =
  | { readonly state: 'here' }
  | { readonly state: 'loading' }
  | { readonly state: 'elsewhere'; readonly nodeId: number }
  | { readonly state: 'unavailable' };

/** Cluster mode's replicated committed offsets: Kafka's name, so tools recognise it; hidden from clients. */
export const OFFSETS_TOPIC = '__consumer_offsets';

const key = (group: string, topic: string, partition: number): string => `${group}\u0000${topic}\u0000${partition}`;

/** One partition of the offsets log, loaded while this broker coordinates its groups. */
interface Shard {
  readonly log: MetadataLog<StoredOffset>;
  /** group -> (key -> offset), a secondary index over the log's state. */
  readonly byGroup: Map<string, Map<string, StoredOffset>>;
}

/**
 * Committed offsets per group, topic and partition, kept in compacted logs and rebuilt from them. On a
 * single node: one internal log, `__wharf_offsets`. In a cluster: the replicated topic
 * `__consumer_offsets`; a group belongs to partition hash(group) mod N, and the leader of that
 * partition coordinates it (Kafka's rule), loading the partition when it becomes leader and dropping
 * it when it stops.
 */
@injectable()
export class OffsetStore {
  private readonly shards = new Map<number, Shard>();
  private readonly loading = new Map<number, Promise<void>>();
  /** Per group with offsets here: touched by every commit or deletion of them (see `changesOf`). */
  private readonly changes = new Map<string, ChangeMark>();
  private readonly unloadListeners = new Set<(owns: (group: string) => boolean) => void>();
  private readonly unsubscribe: Array<() => void> = [];
  private creatingTopic: Promise<void> | undefined;

  constructor(
    @inject(TOKENS.StorageEngine) private readonly engine: StorageEngine,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Cluster) private readonly cluster: Cluster,
    @inject(TOKENS.TopicRegistry) private readonly topics: TopicRegistry,
    @inject(TOKENS.Config) private readonly config: BrokerConfig,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  async open(): Promise<void> {
    if (!this.cluster.clustered) {
      this.loaded(0, shardOf(await MetadataLog.open<StoredOffset>(this.engine, 'offsets')));
      return;
    }
    this.unsubscribe.push(
      this.cluster.onChange((change) => {
        if (change.partitions.some((p) => p.topic === OFFSETS_TOPIC)) this.reconcile();
      }),
      this.topics.onChange((event) => {
        if (event.topic.name === OFFSETS_TOPIC) this.reconcile();
      }),
    );
    this.reconcile();
  }

  close(): void {
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
  }

  /** Calls `listener` with a predicate over group ids whenever groups stop being coordinated here. */
  onUnload(listener: (owns: (group: string) => boolean) => void): () => void {
    this.unloadListeners.add(listener);
    return () => this.unloadListeners.delete(listener);
  }

  /** The offsets partition a group belongs to (Kafka: abs(groupId.hashCode) % partitions). */
  partitionFor(group: string): number {
    return this.cluster.clustered ? (javaHash(group) & 0x7fffffff) % this.config.replication.offsetsPartitions : 0;
  }

  /** Whether this broker coordinates the group now; in a cluster the offsets topic is created on first need. */
  coordination(group: string): Coordination {
    if (!this.cluster.clustered) return { state: 'here' };
    const partition = this.partitionFor(group);
    const state = this.cluster.partitionState(OFFSETS_TOPIC, partition);
    if (!state) {
      this.ensureTopic();
      return { state: 'unavailable' };
    }
    if (state.leader < 0) return { state: 'unavailable' };
    if (state.leader !== this.cluster.nodeId) return { state: 'elsewhere', nodeId: state.leader };
    if (!this.cluster.leads(OFFSETS_TOPIC, partition)) return { state: 'unavailable' };
    return this.shards.has(partition) ? { state: 'here' } : { state: 'loading' };
  }

  /** Stores the commits as one batch; resolves once they are committed. */
  async commit(group: string, commits: readonly OffsetCommit[]): Promise<void> {
    const shard = this.shardFor(group);
    const now = this.clock.now();
    const changes = commits.map((c): [string, StoredOffset] => [
      key(group, c.topic, c.partition),
      { group, topic: c.topic, partition: c.partition, offset: c.offset, leaderEpoch: c.leaderEpoch ?? -1, metadata: c.metadata ?? null, commitTimestamp: now },
    ]);
    for (const [k, stored] of changes) index(shard, k, stored);
    this.changed(group);
    await shard.log.write(changes);
  }

  fetch(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.shards.get(this.partitionFor(group))?.byGroup.get(group)?.get(key(group, topic, partition));
  }

  /** Every committed offset of a group. */
  fetchAll(group: string): GroupOffset[] {
    const offsets = this.shards.get(this.partitionFor(group))?.byGroup.get(group);
    return [...(offsets?.values() ?? [])].map(({ group: _group, ...rest }) => rest);
  }

  /**
   * Every committed offset of a group as stored, without copies (for metrics: read, and kept no longer
   * than the group's `changesOf` mark stays untouched).
   */
  committed(group: string): Iterable<Readonly<StoredOffset>> {
    return this.shards.get(this.partitionFor(group))?.byGroup.get(group)?.values() ?? [];
  }

  /** Touched by every commit or deletion of the group's offsets here; undefined while it has none (a new one when it has again). */
  changesOf(group: string): ChangeMark | undefined {
    return this.changes.get(group);
  }

  /** Groups with committed offsets that this broker coordinates. */
  groups(): string[] {
    return [...this.shards.values()].flatMap((shard) => [...shard.byGroup.keys()]);
  }

  /** The newest commit time of a group, or undefined if it has no offsets. */
  lastCommit(group: string): number | undefined {
    let newest: number | undefined;
    for (const stored of this.shards.get(this.partitionFor(group))?.byGroup.get(group)?.values() ?? []) newest = Math.max(newest ?? 0, stored.commitTimestamp);
    return newest;
  }

  async deleteGroup(group: string): Promise<void> {
    const shard = this.shardFor(group);
    const keys = [...(shard.byGroup.get(group)?.keys() ?? [])];
    shard.byGroup.delete(group);
    this.changed(group);
    await shard.log.write(keys.map((k) => [k, undefined] as const));
  }

  /** Deletes the group's committed offsets of these partitions; resolves once the deletion is committed. */
  async deleteOffsets(group: string, partitions: readonly TopicPartition[]): Promise<void> {
    const shard = this.shardFor(group);
    const offsets = shard.byGroup.get(group);
    const changes: Array<readonly [string, undefined]> = [];
    for (const { topic, partition } of partitions) {
      const k = key(group, topic, partition);
      if (offsets?.delete(k)) changes.push([k, undefined]);
    }
    if (offsets?.size === 0) shard.byGroup.delete(group);
    this.changed(group);
    if (changes.length > 0) await shard.log.write(changes);
  }

  /** Drops a topic's offsets from every group coordinated here (the topic was deleted). */
  async deleteTopic(topic: string): Promise<void> {
    for (const shard of this.shards.values()) {
      const changes: Array<readonly [string, undefined]> = [];
      for (const [group, offsets] of shard.byGroup) {
        const before = changes.length;
        for (const [k, stored] of offsets) {
          if (stored.topic !== topic) continue;
          offsets.delete(k);
          changes.push([k, undefined]);
        }
        if (offsets.size === 0) shard.byGroup.delete(group);
        if (changes.length > before) this.changed(group);
      }
      await shard.log.write(changes);
    }
  }

  private shardFor(group: string): Shard {
    const shard = this.shards.get(this.partitionFor(group));
    if (!shard) throw new BrokerError('NOT_COORDINATOR', `this broker does not coordinate group ${group}`);
    return shard;
  }

  /** Loads the partitions this broker has come to lead and drops the ones it no longer leads. */
  private reconcile(): void {
    for (let p = 0; p < this.config.replication.offsetsPartitions; p++) {
      const leads = this.cluster.partitionState(OFFSETS_TOPIC, p) !== undefined && this.cluster.leads(OFFSETS_TOPIC, p);
      if (leads && !this.shards.has(p) && !this.loading.has(p)) this.load(p);
      else if (!leads && this.shards.has(p)) this.unload(p);
    }
  }

  private load(partition: number): void {
    const log = this.topics.log(OFFSETS_TOPIC, partition);
    if (!log) return;
    const started = this.clock.now();
    const loading = MetadataLog.load<StoredOffset>(log)
      .then((metadata) => {
        if (this.cluster.leads(OFFSETS_TOPIC, partition)) {
          this.loaded(partition, shardOf(metadata));
          this.logger.info({ partition, groups: this.shards.get(partition)!.byGroup.size, ms: this.clock.now() - started }, 'loaded group offsets');
        }
      })
      .catch((err: unknown) => this.logger.error({ err, partition }, 'loading group offsets failed'))
      .finally(() => {
        this.loading.delete(partition);
        this.reconcile();
      });
    this.loading.set(partition, loading);
  }

  private loaded(partition: number, shard: Shard): void {
    this.shards.set(partition, shard);
    for (const group of shard.byGroup.keys()) this.changed(group);
  }

  /** Touches the group's mark; drops it once the group has no offsets here (a later one is new). */
  private changed(group: string): void {
    if (!this.shards.get(this.partitionFor(group))?.byGroup.has(group)) {
      this.changes.delete(group);
      return;
    }
    const mark = this.changes.get(group);
    if (mark) mark.touch();
    else this.changes.set(group, new ChangeMark());
  }

  private unload(partition: number): void {
    const shard = this.shards.get(partition);
    this.shards.delete(partition);
    for (const group of shard?.byGroup.keys() ?? []) this.changed(group);
    this.logger.info({ partition }, 'no longer coordinating the groups of this offsets partition');
    for (const listener of this.unloadListeners) listener((group) => this.partitionFor(group) === partition);
  }

  private ensureTopic(): void {
    if (this.creatingTopic || this.topics.get(OFFSETS_TOPIC)) return;
    this.creatingTopic = this.topics
      .create(OFFSETS_TOPIC, {
        partitions: this.config.replication.offsetsPartitions,
        internal: true,
        replicated: true,
        config: { retentionMs: -1, segmentBytes: 16 * 1024 * 1024, flush: 'always', cleanupPolicy: 'compact', deleteRetentionMs: 0 },
      })
      .then(() => this.logger.info({ partitions: this.config.replication.offsetsPartitions }, 'created the offsets topic'))
      .catch((err: unknown) => {
        if (!BrokerError.is(err, 'TOPIC_EXISTS')) this.logger.warn({ err: (err as Error).message }, 'could not create the offsets topic yet');
      })
      .finally(() => (this.creatingTopic = undefined));
  }
}

function shardOf(log: MetadataLog<StoredOffset>): Shard {
  const shard: Shard = { log, byGroup: new Map() };
  for (const [k, stored] of log.entries()) index(shard, k, stored);
  return shard;
}

function index(shard: Shard, k: string, stored: StoredOffset): void {
  let offsets = shard.byGroup.get(stored.group);
  if (!offsets) shard.byGroup.set(stored.group, (offsets = new Map()));
  offsets.set(k, stored);
}

/** Java's String.hashCode over UTF-16 code units. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}
