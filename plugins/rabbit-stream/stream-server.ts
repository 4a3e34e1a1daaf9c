import type net from 'node:net';
import {
  BrokerError,
  checkStreamName,
  parseMaxAge,
  STREAM_ATTRIBUTE,
  streamOfTopic,
  streamTopic,
  streamTopicConfig,
  TcpListener,
  TOKENS,
  type BrokerConfig,
  type ConnectionBudget,
  type DiskMonitor,
  type ListenerRegistry,
  type Logger,
  type OffsetStore,
  type PartitionLog,
  type PluginContext,
  type Security,
  type StreamArguments,
  type StreamAttributes,
  type TlsCredentials,
  type TopicRegistry,
} from '../../core/index.ts';
import { PublisherTracking } from './publisher-tracking.ts';
import { SingleActiveConsumers } from './single-active-consumers.ts';
import { Code } from './protocol.ts';
import type { StreamSettings } from './stream-config.ts';
import { StreamConnection } from './stream-connection.ts';
import { StreamUsers, type StreamUser } from './stream-users.ts';

/** The version Peer Properties announce: clients enable super-stream commands and filtering from 3.13 on. */
const ANNOUNCED_VERSION = '3.13.7';

export interface SuperStreamPartition {
  stream: string;
  bindingKey: string;
  order: number;
}

/** The stream listeners (`rabbitmq-stream`, `rabbitmq-stream-tls`) and what their connections share. */
export class StreamServer {
  settings!: StreamSettings;
  users!: StreamUsers;
  security!: Security;
  readonly tracking = new PublisherTracking();
  readonly singleActive = new SingleActiveConsumers();
  readonly announcedVersion = ANNOUNCED_VERSION;
  /** How long a failed login or vhost waits for its answer (RabbitMQ's SILENT_CLOSE_DELAY). */
  get refusalDelayMs(): number {
    return this.settings.refusalDelayMs;
  }
  private topics!: TopicRegistry;
  private offsets!: OffsetStore;
  private disk!: DiskMonitor;
  private logger!: Logger;
  private listeners: TcpListener[] = [];
  private readonly connections = new Set<StreamConnection>();
  private unwatchTopics: (() => void) | undefined;

  async start({ container, section, logger }: PluginContext<StreamSettings>): Promise<void> {
    this.settings = section;
    this.logger = logger;
    this.security = container.get<Security>(TOKENS.Security);
    this.users = new StreamUsers(section.users, section.loopbackUsers, this.security);
    this.topics = container.get<TopicRegistry>(TOKENS.TopicRegistry);
    this.offsets = container.get<OffsetStore>(TOKENS.OffsetStore);
    this.disk = container.get<DiskMonitor>(TOKENS.DiskMonitor);
    this.unwatchTopics = this.topics.onChange((event) => {
      if (event.type !== 'deleted') return;
      this.tracking.forget(event.topic.name);
      for (const connection of this.connections) {
        const stream = streamOfTopic(connection.vhost, event.topic.name);
        if (stream !== undefined) connection.streamDeleted(event.topic.name, stream);
      }
    });
    const config = container.get<BrokerConfig>(TOKENS.Config);
    const tls = container.get<TlsCredentials>(TOKENS.Tls);
    const listen = (protocol: string, port: number | 'auto', secure: boolean): TcpListener =>
      new TcpListener({
        protocol,
        host: config.host,
        port,
        maxConnections: section.maxConnections,
        budget: container.get<ConnectionBudget>(TOKENS.ConnectionBudget),
        idleTimeoutMs: 0,
        logger,
        registry: container.get<ListenerRegistry>(TOKENS.ListenerRegistry),
        ...(secure ? { tls: { credentials: tls, mode: 'tls' as const } } : {}),
      });
    this.listeners = [listen('rabbitmq-stream', section.port, false), ...(tls.enabled ? [listen('rabbitmq-stream-tls', section.tlsPort, true)] : [])];
    for (const listener of this.listeners) {
      await listener.start((socket, id, connectionLogger) => {
        const connection = new StreamConnection(socket, id, this, connectionLogger, (closed) => this.connections.delete(closed));
        this.connections.add(connection);
        return connection;
      });
    }
  }

  async stop(): Promise<void> {
    this.unwatchTopics?.();
    await Promise.all(this.listeners.map((listener) => listener.stop(this.settings.drainTimeoutMs)));
  }

  get readOnly(): boolean {
    return this.disk.readOnly;
  }

  /** Where clients reach this broker: Metadata and Open announce it. */
  advertised(socket: net.Socket): { host: string; port: number } {
    const local = socket.localAddress ?? '127.0.0.1';
    return { host: this.settings.advertisedHost || local.replace(/^::ffff:/, ''), port: socket.localPort ?? 0 };
  }

  /** The log of a stream of `vhost`, if the topic exists (every one-partition topic reads as a stream). */
  streamLog(vhost: string, stream: string): PartitionLog | undefined {
    const topic = this.topics.get(streamTopic(vhost, stream));
    if (!topic || topic.internal || topic.partitions !== 1) return undefined;
    return this.topics.log(topic.name, 0);
  }

  /** Every declared publisher on a stream's topic, across connections (a reference is unique per stream). */
  *publishersOf(topic: string): Iterable<{ reference: string | undefined }> {
    for (const connection of this.connections) for (const p of connection.publisherList) if (p.topic === topic) yield p;
  }

  async createStream(vhost: string, name: string, raw: ReadonlyMap<string, string>, user: StreamUser, attributes: StreamAttributes = {}): Promise<number> {
    let stream: string;
    try {
      stream = checkStreamName(name);
    } catch {
      return Code.preconditionFailed;
    }
    if (!user.allows(vhost, 'configure', stream)) return Code.accessRefused;
    const args = streamArguments(raw);
    if (!args) return Code.preconditionFailed;
    const topic = streamTopic(vhost, stream);
    if (this.topics.get(topic)) return Code.streamAlreadyExists;
    try {
      await this.topics.create(topic, { partitions: 1, config: streamTopicConfig(args), attributes: { [STREAM_ATTRIBUTE]: { vhost, ...attributes } } });
      return Code.ok;
    } catch (err) {
      if (err instanceof BrokerError && err.code === 'TOPIC_EXISTS') return Code.streamAlreadyExists;
      if (err instanceof BrokerError && (err.code === 'INVALID_TOPIC' || err.code === 'INVALID_TOPIC_CONFIG')) return Code.preconditionFailed;
      this.logger.error({ err, stream }, 'creating a stream failed');
      return Code.internalError;
    }
  }

  async deleteStream(vhost: string, name: string, user: StreamUser): Promise<number> {
    if (!this.streamLog(vhost, name)) return Code.streamDoesNotExist;
    if (!user.allows(vhost, 'configure', name)) return Code.accessRefused;
    try {
      await this.topics.delete(streamTopic(vhost, name));
      await this.offsets.deleteTopic(streamTopic(vhost, name));
      return Code.ok;
    } catch (err) {
      if (err instanceof BrokerError && err.code === 'TOPIC_NOT_FOUND') return Code.streamDoesNotExist;
      this.logger.error({ err, stream: name }, 'deleting a stream failed');
      return Code.internalError;
    }
  }

  /**
   * A super stream: partition streams, each bound to the super stream's name by a binding key, in
   * order. Its bindings live in the partitions' topic attributes.
   */
  async createSuperStream(vhost: string, name: string, partitions: readonly string[], bindingKeys: readonly string[], raw: ReadonlyMap<string, string>, user: StreamUser): Promise<number> {
    if (partitions.length === 0 || partitions.length !== bindingKeys.length) return Code.preconditionFailed;
    try {
      checkStreamName(name);
    } catch {
      return Code.preconditionFailed;
    }
    if (this.superStreamPartitions(vhost, name)) return Code.streamAlreadyExists;
    if (partitions.some((p) => this.topics.get(streamTopic(vhost, p)))) return Code.streamAlreadyExists;
    for (let i = 0; i < partitions.length; i++) {
      const code = await this.createStream(vhost, partitions[i]!, raw, user, { vhost, superStream: name, bindingKey: bindingKeys[i]!, partitionOrder: i });
      if (code !== Code.ok) return code;
    }
    return Code.ok;
  }

  async deleteSuperStream(vhost: string, name: string, user: StreamUser): Promise<number> {
    const partitions = this.superStreamPartitions(vhost, name);
    if (!partitions) return Code.streamDoesNotExist;
    for (const p of partitions) {
      const code = await this.deleteStream(vhost, p.stream, user);
      if (code !== Code.ok && code !== Code.streamDoesNotExist) return code;
    }
    return Code.ok;
  }

  /** A stream's place among its super stream's partitions, or -1 when it is not a partition. */
  partitionIndexOf(topic: string): number {
    const attributes = this.topics.get(topic)?.attributes[STREAM_ATTRIBUTE] as StreamAttributes | undefined;
    return attributes?.superStream === undefined ? -1 : (attributes.partitionOrder ?? 0);
  }

  /** A super stream's partitions in their order, or undefined when there is none of that name. */
  superStreamPartitions(vhost: string, name: string): SuperStreamPartition[] | undefined {
    const found: SuperStreamPartition[] = [];
    for (const topic of this.topics.list()) {
      const attributes = topic.attributes[STREAM_ATTRIBUTE] as StreamAttributes | undefined;
      if (attributes?.superStream !== name || (attributes.vhost ?? '/') !== vhost) continue;
      const stream = streamOfTopic(vhost, topic.name);
      if (stream === undefined) continue;
      found.push({ stream, bindingKey: attributes.bindingKey ?? '', order: attributes.partitionOrder ?? 0 });
    }
    return found.length === 0 ? undefined : found.sort((a, b) => a.order - b.order);
  }

  /**
   * A consumer's offset under its reference: kept in the broker's group offset store as group
   * `reference`, as Kafka's next-offset-to-read (the stream offset + 1), so a Kafka consumer group of
   * that name resumes where the stream consumer stopped.
   */
  async storeOffset(topic: string, reference: string, offset: bigint): Promise<void> {
    await this.offsets.commit(reference, [{ topic, partition: 0, offset: Number(offset) + 1 }]);
  }

  queryOffset(topic: string, reference: string): bigint | undefined {
    const committed = this.offsets.fetch(reference, topic, 0);
    return committed === undefined || committed.offset < 1 ? undefined : BigInt(committed.offset - 1);
  }
}

const STREAM_ARGUMENTS = new Set(['max-age', 'max-length-bytes', 'stream-max-segment-size-bytes', 'initial-cluster-size', 'queue-leader-locator', 'stream-filter-size-bytes']);

/** Create's arguments (RabbitMQ's names without `x-`), validated; undefined when one is not acceptable. */
function streamArguments(raw: ReadonlyMap<string, string>): StreamArguments | undefined {
  const args: StreamArguments = {};
  for (const [key, value] of raw) {
    if (!STREAM_ARGUMENTS.has(key)) return undefined;
    if (key === 'max-age') {
      const ms = parseMaxAge(value);
      if (ms === undefined) return undefined;
      args.maxAgeMs = ms;
    } else if (key === 'max-length-bytes' || key === 'stream-max-segment-size-bytes') {
      if (!/^[0-9]+$/.test(value)) return undefined;
      const n = Number(value);
      if (!Number.isSafeInteger(n)) return undefined;
      if (key === 'max-length-bytes') args.maxLengthBytes = n;
      else args.maxSegmentSizeBytes = n;
    }
  }
  return args;
}
