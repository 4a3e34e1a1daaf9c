import { randomUUID } from 'node:crypto';
import { inject, injectable, optional } from 'inversify';
import type { Clock, Timer } from '../clock.ts';
import type { BrokerConfig } from '../config.ts';
import { BrokerError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { ChangeMark } from '../metrics/change-mark.ts';
import type { Cluster, ClusterTopicStore } from '../cluster/cluster.ts';
import type { ReplicaLog } from '../replication/replicator.ts';
import type { DiskMonitor } from '../storage/disk-monitor.ts';
import type { PartitionLog, StorageEngine } from '../storage/partition-log.ts';
import { TOKENS } from '../tokens.ts';
import { INTERNAL_LOG_PREFIX, MetadataLog } from './metadata-log.ts';
import { checkTopicConfig, logConfigFor, type TopicConfig } from './topic-config.ts';

export interface TopicDescriptor {
  readonly name: string;
  /** Stable across restarts; new for a topic re-created under the same name. */
  readonly id: string;
  readonly partitions: number;
  readonly config: TopicConfig;
  /** Hidden from protocol listings (e.g. queues a protocol keeps for itself). */
  readonly internal: boolean;
  readonly createdAt: number;
  /** Metadata owned by the plugin that created the topic (message type, queue arguments, ...). */
  readonly attributes: Readonly<Record<string, unknown>>;
  /** A cluster topic: shared by every broker, its partitions replicated. False: this node's own. */
  readonly replicated?: boolean;
}

export interface CreateTopicOptions {
  partitions?: number;
  config?: Readonly<Record<string, unknown>>;
  internal?: boolean;
  attributes?: Readonly<Record<string, unknown>>;
  /** Validate everything, change nothing. */
  validateOnly?: boolean;
  /**
   * In cluster mode, a cluster topic (every broker sees it; its partitions are replicated) rather than a
   * topic of this node alone. Ignored on a single node.
   */
  replicated?: boolean;
  /** Replicas per partition of a cluster topic (default `topics.replicationFactor`, at most the live brokers). */
  replicationFactor?: number;
}

export type TopicEvent =
  | { type: 'created'; topic: TopicDescriptor }
  | { type: 'deleted'; topic: TopicDescriptor }
  | { type: 'partitions'; topic: TopicDescriptor; previous: number }
  | { type: 'config'; topic: TopicDescriptor }
  /** Cluster mode: this broker opened its replicas of these partitions of a cluster topic. */
  | { type: 'opened'; topic: TopicDescriptor; partitions: readonly number[] };

const MAX_NAME_BYTES = 255;
const MAX_PARTITIONS = 100_000;

/**
 * Topics, their partitions and per-topic config. A node's own topics are persisted in an internal
 * metadata log; in cluster mode, cluster topics live in the coordination store and this registry opens
 * the replicas of their partitions that this broker hosts.
 */
@injectable()
export class TopicRegistry {
  private metadata: MetadataLog<TopicDescriptor> | undefined;
  private readonly logs = new Map<string, Array<ReplicaLog | undefined>>();
  /** Per topic with logs here: touched by every change of them (see `changesOf`). */
  private readonly changes = new Map<string, ChangeMark>();
  /** Cluster topics as this broker last applied them. */
  private readonly clusterTopics = new Map<string, TopicDescriptor>();
  private readonly syncs = new Map<string, Promise<void>>();
  private readonly listeners = new Set<(event: TopicEvent) => void>();
  private retentionTimer: Timer | undefined;
  private retentionRunning: Promise<void> | undefined;
  private unwatchCluster: (() => void) | undefined;
  private readonly clusterStore: ClusterTopicStore | undefined;

  constructor(
    @inject(TOKENS.StorageEngine) private readonly engine: StorageEngine,
    @inject(TOKENS.Config) private readonly config: BrokerConfig,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Cluster) cluster: Cluster,
    @inject(TOKENS.DiskMonitor) @optional() private readonly disk?: DiskMonitor,
  ) {
    this.clusterStore = cluster.topicStore;
  }

  async open(): Promise<void> {
    this.metadata = await MetadataLog.open<TopicDescriptor>(this.engine, 'topics');
    for (const topic of this.metadata.values()) this.logs.set(topic.name, await this.openLogs(topic, 0));
    const store = this.clusterStore;
    if (store) {
      this.unwatchCluster = store.onChange((change) => {
        const names = new Set([...change.topics, ...change.partitions.map((p) => p.topic)]);
        for (const name of names) void this.syncClusterTopic(name);
      });
      for (const name of store.topics().keys()) await this.syncClusterTopic(name);
    }
    for (const id of await this.engine.listLogs()) {
      if (id.topic.startsWith(INTERNAL_LOG_PREFIX) || this.logs.get(id.topic)?.[id.partition] !== undefined) continue;
      if (store?.topics().has(id.topic)) continue;
      this.logger.warn({ topic: id.topic, partition: id.partition }, 'deleting a log no topic owns');
      await this.engine.deleteLog(id);
    }
    this.scheduleRetention();
  }

  async close(): Promise<void> {
    this.unwatchCluster?.();
    this.retentionTimer?.cancel();
    this.retentionTimer = undefined;
    await this.retentionRunning;
    await Promise.all(this.syncs.values());
    this.logs.clear();
    this.changes.clear();
    this.listeners.clear();
  }

  get(name: string): TopicDescriptor | undefined {
    return this.store.get(name) ?? this.clusterTopics.get(name);
  }

  list(options: { includeInternal?: boolean } = {}): TopicDescriptor[] {
    return [...this.store.values(), ...this.clusterTopics.values()].filter((t) => options.includeInternal || !t.internal);
  }

  /** The log of one partition here, or undefined if the topic or partition does not exist (or, for a cluster topic, has no replica on this broker). */
  log(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(topic)?.[partition];
  }

  /** The same log as replication sees it. */
  replicaLog(topic: string, partition: number): ReplicaLog | undefined {
    return this.logs.get(topic)?.[partition];
  }

  /** A topic's partition logs by partition (holes where this broker hosts no replica), or undefined while it has none open here. */
  logsOf(topic: string): readonly (PartitionLog | undefined)[] | undefined {
    return this.logs.get(topic);
  }

  /**
   * Touched by every change of what the topic's logs here report (appends, high watermark, retention,
   * segments) and of their set (partitions added, replicas opened): metrics read a topic's logs again
   * only when it moved. Undefined while the topic has no logs here.
   */
  changesOf(topic: string): ChangeMark | undefined {
    return this.changes.get(topic);
  }

  /** A topic's partition logs, by partition (a cluster topic has holes where this broker hosts no replica). */
  partitions(topic: string): readonly PartitionLog[] {
    const logs = this.logs.get(topic);
    if (!logs) throw new BrokerError('TOPIC_NOT_FOUND', `topic ${topic} does not exist`);
    return logs as PartitionLog[];
  }

  async create(name: string, options: CreateTopicOptions = {}): Promise<TopicDescriptor> {
    checkTopicName(name);
    if (this.get(name)) throw new BrokerError('TOPIC_EXISTS', `topic ${name} already exists`);
    const partitions = options.partitions ?? this.config.topics.partitions;
    checkPartitionCount(partitions);
    const store = options.replicated ? this.clusterStore : undefined;
    const topic: TopicDescriptor = {
      name,
      id: randomUUID(),
      partitions,
      config: checkTopicConfig(options.config ?? {}),
      internal: options.internal ?? false,
      createdAt: this.clock.now(),
      attributes: { ...options.attributes },
      ...(store ? { replicated: true } : {}),
    };
    if (!store) {
      if (options.replicationFactor !== undefined && options.replicationFactor !== 1) {
        throw new BrokerError('INVALID_REPLICATION_FACTOR', `replication factor ${options.replicationFactor} is larger than the 1 available broker`);
      }
      if (options.validateOnly) return topic;
      this.checkWritable(`topic ${name} cannot be created`);
      await this.store.put(name, topic);
      this.logs.set(name, await this.openLogs(topic, 0));
      this.emit({ type: 'created', topic });
      return topic;
    }
    const live = store.liveBrokers();
    const factor = options.replicationFactor ?? Math.min(this.config.topics.replicationFactor, live);
    if (factor < 1 || factor > live) {
      throw new BrokerError('INVALID_REPLICATION_FACTOR', `replication factor ${factor} is larger than the ${live} live broker${live === 1 ? '' : 's'}`);
    }
    if (options.validateOnly) return topic;
    this.checkWritable(`topic ${name} cannot be created`);
    await store.createTopic(topic, factor);
    await this.syncClusterTopic(name);
    return this.clusterTopics.get(name) ?? topic;
  }

  async delete(name: string): Promise<TopicDescriptor> {
    const topic = this.require(name);
    if (this.clusterTopics.has(name)) {
      await this.clusterStore!.deleteTopic(name);
      await this.syncClusterTopic(name);
      return topic;
    }
    await this.store.delete(name);
    this.logs.delete(name);
    this.changes.delete(name);
    this.emit({ type: 'deleted', topic });
    for (let p = 0; p < topic.partitions; p++) await this.engine.deleteLog({ topic: name, partition: p });
    return topic;
  }

  async addPartitions(name: string, count: number, validateOnly = false): Promise<TopicDescriptor> {
    const previous = this.require(name);
    checkPartitionCount(count);
    if (count <= previous.partitions) {
      throw new BrokerError('INVALID_PARTITIONS', `topic ${name} has ${previous.partitions} partitions; the new count must be larger, not ${count}`);
    }
    const topic: TopicDescriptor = { ...previous, partitions: count };
    if (validateOnly) return topic;
    this.checkWritable(`partitions cannot be added to topic ${name}`);
    if (this.clusterTopics.has(name)) {
      await this.clusterStore!.updateTopic(topic, previous.partitions, this.clusterStore!.replicationFactorOf(name));
      await this.syncClusterTopic(name);
      return topic;
    }
    await this.store.put(name, topic);
    const logs = this.logs.get(name) ?? [];
    this.logs.set(name, [...logs, ...(await this.openLogs(topic, previous.partitions))]);
    this.emit({ type: 'partitions', topic, previous: previous.partitions });
    return topic;
  }

  /** Replaces the topic's overrides (keys absent from `config` fall back to the defaults). */
  async setConfig(name: string, config: Readonly<Record<string, unknown>>, validateOnly = false): Promise<TopicDescriptor> {
    const topic: TopicDescriptor = { ...this.require(name), config: checkTopicConfig(config) };
    if (validateOnly) return topic;
    if (this.clusterTopics.has(name)) {
      await this.clusterStore!.updateTopic(topic, topic.partitions, this.clusterStore!.replicationFactorOf(name));
      await this.syncClusterTopic(name);
      return topic;
    }
    await this.store.put(name, topic);
    const logConfig = logConfigFor(topic.config, this.config.topics);
    for (const log of this.logs.get(name) ?? []) log?.updateConfig(logConfig);
    this.emit({ type: 'config', topic });
    return topic;
  }

  async setAttributes(name: string, attributes: Readonly<Record<string, unknown>>): Promise<TopicDescriptor> {
    const topic: TopicDescriptor = { ...this.require(name), attributes: { ...attributes } };
    if (this.clusterTopics.has(name)) {
      await this.clusterStore!.updateTopic(topic, topic.partitions, this.clusterStore!.replicationFactorOf(name));
      await this.syncClusterTopic(name);
      return topic;
    }
    await this.store.put(name, topic);
    return topic;
  }

  /** Brings this broker's view and replicas of a cluster topic in line with the store. Serialised per topic. */
  private syncClusterTopic(name: string): Promise<void> {
    const run = (this.syncs.get(name) ?? Promise.resolve()).then(() => this.applyClusterTopic(name));
    const tracked = run.catch((err: unknown) => this.logger.error({ err, topic: name }, 'applying a cluster topic failed'));
    this.syncs.set(name, tracked);
    void tracked.finally(() => {
      if (this.syncs.get(name) === tracked) this.syncs.delete(name);
    });
    return run;
  }

  private async applyClusterTopic(name: string): Promise<void> {
    const store = this.clusterStore!;
    const topic = store.topics().get(name);
    const before = this.clusterTopics.get(name);
    if (before && (!topic || topic.id !== before.id)) {
      const logs = this.logs.get(name) ?? [];
      this.clusterTopics.delete(name);
      this.logs.delete(name);
      this.changes.delete(name);
      this.emit({ type: 'deleted', topic: before });
      for (let p = 0; p < logs.length; p++) if (logs[p]) await this.engine.deleteLog({ topic: name, partition: p });
    }
    if (!topic) return;
    if (this.store.has(name)) {
      this.logger.error({ topic: name }, 'a cluster topic has the name of a topic of this node; this broker hosts none of its replicas');
      return;
    }
    const current = this.clusterTopics.get(name);
    const logs = this.logs.get(name) ?? [];
    const config = logConfigFor(topic.config, this.config.topics);
    const opened: number[] = [];
    for (let p = 0; p < topic.partitions; p++) {
      if (logs[p] || !store.partitionState(name, p)?.replicas.includes(store.nodeId)) continue;
      logs[p] = await this.engine.openLog({ topic: name, partition: p }, config);
      opened.push(p);
    }
    logs.length = Math.max(logs.length, topic.partitions);
    this.logs.set(name, logs);
    this.watchLogs(name, opened.map((p) => logs[p]!));
    this.clusterTopics.set(name, topic);
    if (!current) this.emit({ type: 'created', topic });
    else if (current.partitions < topic.partitions) this.emit({ type: 'partitions', topic, previous: current.partitions });
    if (current && JSON.stringify(current.config) !== JSON.stringify(topic.config)) {
      for (const log of logs) log?.updateConfig(config);
      this.emit({ type: 'config', topic });
    }
    if (opened.length > 0) this.emit({ type: 'opened', topic, partitions: opened });
  }

  /** Subscribes to topic changes; returns the unsubscribe function. */
  onChange(listener: (event: TopicEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs time and size retention over every partition now. */
  async applyRetention(): Promise<number> {
    let deleted = 0;
    const now = this.clock.now();
    for (const logs of this.logs.values()) for (const log of logs) if (log) deleted += await log.applyRetention(now);
    return deleted;
  }

  private get store(): MetadataLog<TopicDescriptor> {
    if (!this.metadata) throw new BrokerError('BROKER_STATE', 'the topic registry is not open');
    return this.metadata;
  }

  /** New logs are refused while the disk is below its free-space limit; deletions (which free space) are not. */
  private checkWritable(what: string): void {
    if (this.disk?.readOnly) throw new BrokerError('STORAGE_FULL', `${what}: the disk is below its free-space limit, the broker is read-only`);
  }

  private require(name: string): TopicDescriptor {
    const topic = this.get(name);
    if (!topic) throw new BrokerError('TOPIC_NOT_FOUND', `topic ${name} does not exist`);
    return topic;
  }

  private async openLogs(topic: TopicDescriptor, from: number): Promise<ReplicaLog[]> {
    const config = logConfigFor(topic.config, this.config.topics);
    const logs: ReplicaLog[] = [];
    for (let p = from; p < topic.partitions; p++) logs.push(await this.engine.openLog({ topic: topic.name, partition: p }, config));
    this.watchLogs(topic.name, logs);
    return logs;
  }

  /** Makes every change of these logs, newly part of the topic, touch its mark; touches it (the set of logs changed). */
  private watchLogs(name: string, logs: readonly PartitionLog[]): void {
    let mark = this.changes.get(name);
    if (mark) mark.touch();
    else this.changes.set(name, (mark = new ChangeMark()));
    const touch = () => mark.touch();
    for (const log of logs) log.onChange(touch);
  }

  private emit(event: TopicEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err, event: event.type, topic: event.topic.name }, 'topic listener failed');
      }
    }
  }

  private scheduleRetention(): void {
    this.retentionTimer = this.clock.setTimeout(() => {
      this.retentionRunning = this.applyRetention()
        .then((deleted) => {
          if (deleted > 0) this.logger.info({ deleted }, 'retention deleted segments');
        })
        .catch((err: unknown) => this.logger.error({ err }, 'retention failed'))
        .finally(() => {
          this.retentionRunning = undefined;
          if (this.retentionTimer) this.scheduleRetention();
        });
    }, this.config.topics.retentionCheckIntervalMs);
  }
}

export function checkTopicName(name: string): void {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0 || bytes > MAX_NAME_BYTES || name === '.' || name === '..' || name.includes('\0')) {
    throw new BrokerError('INVALID_TOPIC', `topic name ${JSON.stringify(name)} is not valid (1-${MAX_NAME_BYTES} bytes, not . or ..)`);
  }
  if (name.startsWith(INTERNAL_LOG_PREFIX)) throw new BrokerError('INVALID_TOPIC', `topic names starting ${INTERNAL_LOG_PREFIX} are reserved`);
}

function checkPartitionCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) {
    throw new BrokerError('INVALID_PARTITIONS', `partition count must be an integer in [1, ${MAX_PARTITIONS}], not ${count}`);
  }
}
