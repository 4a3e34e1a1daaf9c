import { inject, injectable } from 'inversify';
import type { TopicPartition } from '../assignment/assignor.ts';
import type { Clock } from '../clock.ts';
import type { Cluster } from '../cluster/cluster.ts';
import type { BrokerConfig } from '../config.ts';
import { BrokerError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { ControlType, encodeTxnMarker } from '../record/index.ts';
import { ChangeMark } from '../metrics/change-mark.ts';
import type { StorageEngine } from '../storage/partition-log.ts';
import { TOKENS } from '../tokens.ts';
import { LeaderShards, type Coordination } from '../topics/leader-shards.ts';
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

export type { Coordination } from '../topics/leader-shards.ts';

/** Cluster mode's replicated committed offsets: Kafka's name, so tools recognise it; hidden from clients. */
export const OFFSETS_TOPIC = '__consumer_offsets';

const key = (group: string, topic: string, partition: number): string => `${group}\u0000${topic}\u0000${partition}`;
/**
 * An offset committed in a transaction not yet decided (cluster mode): kept in the offsets log under
 * its producer id until the transaction's marker reaches this partition's leader.
 */
const PENDING_PREFIX = '\u0001txn\u0000';
const pendingKey = (producerId: number, group: string, topic: string, partition: number): string => `${PENDING_PREFIX}${producerId}\u0000${key(group, topic, partition)}`;

/** One partition of the offsets log, loaded while this broker coordinates its groups. */
interface Shard {
  readonly log: MetadataLog<StoredOffset>;
  /** group -> (key -> offset), a secondary index over the log's state. */
  readonly byGroup: Map<string, Map<string, StoredOffset>>;
  /** producer id -> (pending key -> offset): offsets committed in transactions still open. */
  readonly pending: Map<number, Map<string, StoredOffset>>;
}

/** A transaction coordinator's marker for an offsets partition (Kafka's WriteTxnMarkers entry). */
export interface OffsetsMarker {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  commit: boolean;
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
  /** Per group with offsets here: touched by every commit or deletion of them (see `changesOf`). */
  private readonly changes = new Map<string, ChangeMark>();
  private readonly unloadListeners = new Set<(owns: (group: string) => boolean) => void>();
  private placement: LeaderShards<StoredOffset> | undefined;

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
    this.placement = new LeaderShards<StoredOffset>(this.cluster, this.topics, this.clock, this.logger, {
      topic: OFFSETS_TOPIC,
      partitions: this.config.replication.offsetsPartitions,
      loaded: (partition, log) => this.loaded(partition, shardOf(log)),
      unloaded: (partition) => this.unload(partition),
    });
    this.placement.open();
  }

  close(): void {
    this.placement?.close();
  }

  /** Calls `listener` with a predicate over group ids whenever groups stop being coordinated here. */
  onUnload(listener: (owns: (group: string) => boolean) => void): () => void {
    this.unloadListeners.add(listener);
    return () => this.unloadListeners.delete(listener);
  }

  /** The offsets partition a group belongs to (Kafka: abs(groupId.hashCode) % partitions). */
  partitionFor(group: string): number {
    return this.placement?.partitionFor(group) ?? 0;
  }

  /** Whether this broker coordinates the group now; in a cluster the offsets topic is created on first need. */
  coordination(group: string): Coordination {
    return this.placement?.coordination(this.partitionFor(group)) ?? { state: 'here' };
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

  /**
   * Kafka's TxnOffsetCommit at the group coordinator (cluster mode): the offsets are stored under the
   * producer, in a transactional batch of its epoch, and become the group's only when the transaction's
   * commit marker arrives. An epoch older than the newest the partition's log holds for the producer (its
   * offsets or markers, kept by the log's producer state, so a new coordinator has it) is
   * INVALID_PRODUCER_EPOCH, as Kafka's offsets log refuses the zombie's batch.
   */
  async commitTransactional(group: string, producerId: number, producerEpoch: number, commits: readonly OffsetCommit[]): Promise<void> {
    const shard = this.shardFor(group);
    const newest = shard.log.producerState.epochOf(producerId);
    if (producerEpoch < newest) throw new BrokerError('INVALID_PRODUCER_EPOCH', `producer ${producerId} epoch ${producerEpoch} is older than ${newest}`);
    const now = this.clock.now();
    let pending = shard.pending.get(producerId);
    if (!pending) shard.pending.set(producerId, (pending = new Map()));
    const changes = commits.map((c): [string, StoredOffset] => [
      pendingKey(producerId, group, c.topic, c.partition),
      { group, topic: c.topic, partition: c.partition, offset: c.offset, leaderEpoch: c.leaderEpoch ?? -1, metadata: c.metadata ?? null, commitTimestamp: now },
    ]);
    for (const [k, stored] of changes) pending.set(k, stored);
    await shard.log.write(changes, { producer: { id: producerId, epoch: producerEpoch } });
  }

  /**
   * A transaction marker for an offsets partition (Kafka's marker append then handleTxnCompletion): the
   * marker is written to the partition's log, checked as any partition's leader checks one
   * (INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED), and in the same append the producer's
   * pending offsets there become committed (commit) or are dropped (abort). NOT_COORDINATOR when this
   * broker does not lead the partition, COORDINATOR_LOADING while it loads it.
   */
  async completeTransaction(partition: number, marker: OffsetsMarker): Promise<void> {
    const shard = this.shards.get(partition);
    if (!shard) {
      if (this.placement?.isLoading(partition)) throw new BrokerError('COORDINATOR_LOADING', `offsets partition ${partition} is loading`);
      throw new BrokerError('NOT_COORDINATOR', `this broker does not lead offsets partition ${partition}`);
    }
    const { producerId, producerEpoch, coordinatorEpoch, commit } = marker;
    const stale = shard.log.producerState.checkMarker(producerId, producerEpoch, coordinatorEpoch);
    if (stale) throw stale;
    const now = this.clock.now();
    const framing = { marker: encodeTxnMarker(commit ? ControlType.commit : ControlType.abort, producerId, producerEpoch, coordinatorEpoch, now) };
    const pending = shard.pending.get(producerId);
    shard.pending.delete(producerId);
    const changes: Array<readonly [string, StoredOffset | undefined]> = [];
    for (const [pk, stored] of pending ?? []) {
      changes.push([pk, undefined]);
      if (!commit) continue;
      const committed = { ...stored, commitTimestamp: now };
      const k = key(stored.group, stored.topic, stored.partition);
      index(shard, k, committed);
      changes.push([k, committed]);
      this.changed(stored.group);
    }
    try {
      await shard.log.write(changes, framing);
    } catch (err) {
      // Not committed: the coordinator retries the marker, which must find the offsets still pending.
      if (pending && !shard.pending.has(producerId)) shard.pending.set(producerId, pending);
      throw err;
    }
  }

  /** The group's `topic\u0000partition` keys with an offset committed in a transaction not yet decided. */
  pendingKeys(group: string): Set<string> {
    const keys = new Set<string>();
    for (const pending of this.shards.get(this.partitionFor(group))?.pending.values() ?? []) {
      for (const stored of pending.values()) if (stored.group === group) keys.add(`${stored.topic}\u0000${stored.partition}`);
    }
    return keys;
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

  /** Drops a topic's offsets, committed or pending in a transaction, from every group coordinated here (the topic was deleted). */
  async deleteTopic(topic: string): Promise<void> {
    for (const shard of this.shards.values()) {
      const changes: Array<readonly [string, undefined]> = [];
      dropTopic(shard.byGroup, topic, changes, (group) => this.changed(group));
      dropTopic(shard.pending, topic, changes);
      await shard.log.write(changes);
    }
  }

  private shardFor(group: string): Shard {
    const shard = this.shards.get(this.partitionFor(group));
    if (!shard) throw new BrokerError('NOT_COORDINATOR', `this broker does not coordinate group ${group}`);
    return shard;
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
}

function shardOf(log: MetadataLog<StoredOffset>): Shard {
  const shard: Shard = { log, byGroup: new Map(), pending: new Map() };
  for (const [k, stored] of log.entries()) {
    if (!k.startsWith(PENDING_PREFIX)) {
      index(shard, k, stored);
      continue;
    }
    const producerId = Number(k.slice(PENDING_PREFIX.length, k.indexOf('\u0000', PENDING_PREFIX.length)));
    let pending = shard.pending.get(producerId);
    if (!pending) shard.pending.set(producerId, (pending = new Map()));
    pending.set(k, stored);
  }
  return shard;
}

function index(shard: Shard, k: string, stored: StoredOffset): void {
  let offsets = shard.byGroup.get(stored.group);
  if (!offsets) shard.byGroup.set(stored.group, (offsets = new Map()));
  offsets.set(k, stored);
}

/** Removes the topic's offsets from an index (by group or by producer), adding their tombstones to `changes`. */
function dropTopic<K>(offsetsBy: Map<K, Map<string, StoredOffset>>, topic: string, changes: Array<readonly [string, undefined]>, dropped?: (owner: K) => void): void {
  for (const [owner, offsets] of offsetsBy) {
    const before = changes.length;
    for (const [k, stored] of offsets) {
      if (stored.topic !== topic) continue;
      offsets.delete(k);
      changes.push([k, undefined]);
    }
    if (offsets.size === 0) offsetsBy.delete(owner);
    if (changes.length > before) dropped?.(owner);
  }
}
