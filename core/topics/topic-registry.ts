import { randomUUID } from 'node:crypto';
import { inject, injectable, optional } from 'inversify';
import type { Clock, Timer } from '../clock.ts';
import type { BrokerConfig } from '../config.ts';
import { BrokerError } from '../errors.ts';
import type { Logger } from '../logging.ts';
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
}

export interface CreateTopicOptions {
  partitions?: number;
  config?: Readonly<Record<string, unknown>>;
  internal?: boolean;
  attributes?: Readonly<Record<string, unknown>>;
  /** Validate everything, change nothing. */
  validateOnly?: boolean;
}

export type TopicEvent =
  | { type: 'created'; topic: TopicDescriptor }
  | { type: 'deleted'; topic: TopicDescriptor }
  | { type: 'partitions'; topic: TopicDescriptor; previous: number }
  | { type: 'config'; topic: TopicDescriptor };

const MAX_NAME_BYTES = 255;
const MAX_PARTITIONS = 100_000;

/** Topics, their partitions and per-topic config, persisted in an internal metadata log. */
@injectable()
export class TopicRegistry {
  private metadata: MetadataLog<TopicDescriptor> | undefined;
  private readonly logs = new Map<string, PartitionLog[]>();
  private readonly listeners = new Set<(event: TopicEvent) => void>();
  private retentionTimer: Timer | undefined;
  private retentionRunning: Promise<void> | undefined;

  constructor(
    @inject(TOKENS.StorageEngine) private readonly engine: StorageEngine,
    @inject(TOKENS.Config) private readonly config: BrokerConfig,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.DiskMonitor) @optional() private readonly disk?: DiskMonitor,
  ) {}

  async open(): Promise<void> {
    this.metadata = await MetadataLog.open<TopicDescriptor>(this.engine, 'topics');
    for (const topic of this.metadata.values()) this.logs.set(topic.name, await this.openLogs(topic, 0));
    for (const id of await this.engine.listLogs()) {
      const topic = this.metadata.get(id.topic);
      if (id.topic.startsWith(INTERNAL_LOG_PREFIX) || (topic && id.partition < topic.partitions)) continue;
      this.logger.warn({ topic: id.topic, partition: id.partition }, 'deleting a log no topic owns');
      await this.engine.deleteLog(id);
    }
    this.scheduleRetention();
  }

  async close(): Promise<void> {
    this.retentionTimer?.cancel();
    this.retentionTimer = undefined;
    await this.retentionRunning;
    this.logs.clear();
    this.listeners.clear();
  }

  get(name: string): TopicDescriptor | undefined {
    return this.store.get(name);
  }

  list(options: { includeInternal?: boolean } = {}): TopicDescriptor[] {
    return [...this.store.values()].filter((t) => options.includeInternal || !t.internal);
  }

  /** The log of one partition, or undefined if the topic or partition does not exist. */
  log(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(topic)?.[partition];
  }

  partitions(topic: string): readonly PartitionLog[] {
    const logs = this.logs.get(topic);
    if (!logs) throw new BrokerError('TOPIC_NOT_FOUND', `topic ${topic} does not exist`);
    return logs;
  }

  async create(name: string, options: CreateTopicOptions = {}): Promise<TopicDescriptor> {
    checkTopicName(name);
    if (this.store.has(name)) throw new BrokerError('TOPIC_EXISTS', `topic ${name} already exists`);
    const partitions = options.partitions ?? this.config.topics.partitions;
    checkPartitionCount(partitions);
    const topic: TopicDescriptor = {
      name,
      id: randomUUID(),
      partitions,
      config: checkTopicConfig(options.config ?? {}),
      internal: options.internal ?? false,
      createdAt: this.clock.now(),
      attributes: { ...options.attributes },
    };
    if (options.validateOnly) return topic;
    this.checkWritable(`topic ${name} cannot be created`);
    await this.store.put(name, topic);
    this.logs.set(name, await this.openLogs(topic, 0));
    this.emit({ type: 'created', topic });
    return topic;
  }

  async delete(name: string): Promise<TopicDescriptor> {
    const topic = this.require(name);
    await this.store.delete(name);
    this.logs.delete(name);
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
    await this.store.put(name, topic);
    const logConfig = logConfigFor(topic.config, this.config.topics);
    for (const log of this.logs.get(name) ?? []) log.updateConfig(logConfig);
    this.emit({ type: 'config', topic });
    return topic;
  }

  async setAttributes(name: string, attributes: Readonly<Record<string, unknown>>): Promise<TopicDescriptor> {
    const topic: TopicDescriptor = { ...this.require(name), attributes: { ...attributes } };
    await this.store.put(name, topic);
    return topic;
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
    for (const logs of this.logs.values()) for (const log of logs) deleted += await log.applyRetention(now);
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
    const topic = this.store.get(name);
    if (!topic) throw new BrokerError('TOPIC_NOT_FOUND', `topic ${name} does not exist`);
    return topic;
  }

  private async openLogs(topic: TopicDescriptor, from: number): Promise<PartitionLog[]> {
    const config = logConfigFor(topic.config, this.config.topics);
    const logs: PartitionLog[] = [];
    for (let p = from; p < topic.partitions; p++) logs.push(await this.engine.openLog({ topic: topic.name, partition: p }, config));
    return logs;
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
