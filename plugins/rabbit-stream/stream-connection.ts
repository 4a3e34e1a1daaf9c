import type net from 'node:net';
import {
  BATCH_HEADER_SIZE,
  BrokerError,
  gzipBatch,
  LengthPrefixedFrames,
  MAX_DECOMPRESSED_BYTES,
  readCommitted,
  StreamBatchBuilder,
  streamFilter,
  type AbortedTransaction,
  type ClientDescription,
  type Logger,
  type PartitionLog,
  type StreamFilter,
} from '../../core/index.ts';
import { ChunkEncoder } from './deliver.ts';
import { addSubEntryMessages, readSubEntry, SUB_ENTRY_FLAG, SubEntryCompression, subEntryProblem, type SubEntry } from './sub-entry.ts';
import { ConfirmQueue, PublishingIds } from './publish-confirms.ts';
import { Code, Command, FrameReader, FrameWriter, OffsetType, RESPONSE, response, SERVER_COMMAND_VERSIONS } from './protocol.ts';
import type { StreamServer } from './stream-server.ts';
import type { StreamUser } from './stream-users.ts';

/** Until Open completes, frames are held to this size (stream.initial_frame_max). */
const INITIAL_FRAME_MAX = 8192;
/** Stop reading a publisher's socket while this many published bytes wait for their appends. */
const MAX_PENDING_PUBLISH_BYTES = 32 * 1024 * 1024;
/** Bytes read from a log per subscription read. */
const READ_BYTES = 1024 * 1024;
const MAX_REFERENCE_LENGTH = 256;
const EMPTY = Buffer.alloc(0);
const GROUP_JOIN_DELAY_MS = 20;

type State = 'peer-properties' | 'sasl' | 'tune' | 'open-wait' | 'open' | 'closing';

interface Publisher {
  readonly id: number;
  readonly topic: string;
  readonly stream: string;
  readonly reference: string | undefined;
  readonly referenceBytes: Buffer | undefined;
  readonly log: PartitionLog;
  /** Deduplication table of the stream (reference -> last publishing id), when the publisher has a reference. */
  readonly tracking: Map<string, bigint> | undefined;
}

interface Subscription {
  readonly id: number;
  readonly topic: string;
  readonly stream: string;
  readonly log: PartitionLog;
  nextOffset: number;
  /** Batches read and not yet delivered (credit ran out), from `pendingAt`. */
  pending: Buffer;
  pendingAt: number;
  /** Kafka transactions aborted among the pending batches: theirs are not delivered. */
  aborted: readonly AbortedTransaction[];
  /** A Deliver frame built ahead, waiting for credit (`nextOffset` is already past it). */
  ready: Buffer | undefined;
  credit: number;
  /** False for a waiting member of a single-active-consumer group: nothing is delivered to it. */
  active: boolean;
  /** Its single-active-consumer group (consumer reference), if it is in one. */
  group: string | undefined;
  /** The offset specification to fall back on when activated without one. */
  readonly initialOffset: number;
  /** Only batches with a message it wants are delivered (filter.N, match-unfiltered). */
  readonly filter: StreamFilter | undefined;
  pumping: boolean;
  again: boolean;
  closed: boolean;
  unwatch: () => void;
}

/**
 * A subscription's filter, as RabbitMQ's rabbit_stream_utils:filter_spec: the values of its `filter.*`
 * properties, and `match-unfiltered` = "true"; none without a `filter.` property.
 */
function filterOf(properties: ReadonlyMap<string, string>): StreamFilter | undefined {
  const values: string[] = [];
  for (const [key, value] of properties) if (key.startsWith('filter.')) values.push(value);
  if (values.length === 0) return undefined;
  return streamFilter(values, properties.get('match-unfiltered') === 'true');
}

/** Steps over one published entry after its publishing id: the filter value (v2), then a message or a sub-entry. */
function skipEntry(r: FrameReader, version: number): void {
  if (version >= 2) r.string();
  if (r.remaining > 0 && (r.buf[r.pos]! & SUB_ENTRY_FLAG) !== 0) readSubEntry(r);
  else r.bytes();
}

/** One client of the RabbitMQ Stream protocol: handshake, publishers, subscriptions, offsets. */
export class StreamConnection {
  private state: State = 'peer-properties';
  private readonly frames: LengthPrefixedFrames;
  private frameMax: number;
  private user: StreamUser | undefined;
  /** What the client said of itself in PeerProperties (product, version, connection_name). */
  private clientProperties = new Map<string, string>();
  private saslMechanism: string | undefined;
  vhost = '/';
  private readonly publishers = new Map<number, Publisher>();
  private readonly subscriptions = new Map<number, Subscription>();
  private readonly builder = new StreamBatchBuilder();
  /** Builds the batch of one sub-entry. */
  private readonly subEntries = new StreamBatchBuilder();
  private readonly chunks = new ChunkEncoder();
  /** The publisher whose publishes `builder` holds, appended as one batch at the end of the socket read. */
  private batching: Publisher | undefined;
  private readonly batchIds = new PublishingIds();
  private readonly confirms = new ConfirmQueue(
    (frames) => this.writeAll(frames),
    () => this.frameMax,
  );
  /** The Deliver version the client reads (ExchangeCommandVersions). */
  private deliverVersion = 1;
  private pendingPublishBytes = 0;
  private paused = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lastReceived = Date.now();
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    readonly id: number,
    private readonly server: StreamServer,
    private readonly logger: Logger,
    private readonly onClosed: (connection: StreamConnection) => void,
  ) {
    this.frameMax = server.settings.frameMax;
    this.frames = new LengthPrefixedFrames(INITIAL_FRAME_MAX);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.cleanup());
  }

  close(): void {
    this.socket.destroy();
  }

  describe(): ClientDescription {
    const product = this.clientProperties.get('product');
    return {
      user: this.user?.name,
      clientId: this.clientProperties.get('connection_name'),
      clientSoftware: product === undefined ? undefined : { name: product, version: this.clientProperties.get('version') ?? '' },
      details: { vhost: this.vhost ?? null },
    };
  }

  private received(chunk: Buffer): void {
    this.lastReceived = Date.now();
    let frames: Buffer[];
    try {
      frames = this.frames.push(chunk);
    } catch (err) {
      const tooLarge = err instanceof BrokerError && err.code === 'FRAME_TOO_LARGE';
      this.refuse(tooLarge ? Code.frameTooLarge : Code.unknownFrame, tooLarge ? 'frame too large' : 'malformed frame');
      return;
    }
    for (const frame of frames) {
      if (this.closed || this.state === 'closing') break;
      try {
        this.handle(frame);
      } catch (err) {
        if (err instanceof BrokerError && err.code === 'MALFORMED_INPUT') {
          this.refuse(Code.unknownFrame, 'unknown frame');
        } else {
          this.logger.error({ err }, 'stream frame failed');
          this.refuse(Code.internalError, 'internal error');
        }
        break;
      }
    }
    if (this.closed || this.state === 'closing') this.dropPublishes();
    else this.flushPublishes();
  }

  /**
   * RabbitMQ's answer to a frame it cannot serve: before Open, the connection is closed; after it, a
   * Close request with `code` goes first.
   */
  private refuse(code: number, reason: string): void {
    if (this.closed || this.state === 'closing') return;
    const opened = this.state === 'open';
    this.state = 'closing';
    if (opened) this.write(new FrameWriter().uint16(Command.close).uint16(1).uint32(1).uint16(code).string(reason).finish());
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** RabbitMQ's tarpit for a failed login or vhost: the answer is held back, then the connection is closed. */
  private refuseLater(answer: Buffer): void {
    this.state = 'closing';
    this.socket.pause();
    setTimeout(() => {
      this.write(answer);
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }, this.server.refusalDelayMs).unref();
  }

  private write(frame: Buffer): boolean {
    if (this.closed || this.socket.destroyed) return false;
    return this.socket.write(frame);
  }

  private handle(frame: Buffer): void {
    const r = new FrameReader(frame);
    const key = r.uint16();
    const version = r.uint16();
    if (key !== Command.publish) this.flushPublishes();
    if (key === Command.heartbeat) return;
    if (key === Command.publish) {
      if (this.state !== 'open') throw new BrokerError('MALFORMED_INPUT', 'publish before open');
      this.publish(r, version);
      return;
    }
    if (key === Command.credit) {
      if (this.state !== 'open') throw new BrokerError('MALFORMED_INPUT', 'credit before open');
      this.credit(r);
      return;
    }
    if (key === Command.storeOffset) {
      if (this.state !== 'open') throw new BrokerError('MALFORMED_INPUT', 'store offset before open');
      this.storeOffset(r);
      return;
    }
    if (key === Command.tune || key === (Command.tune | RESPONSE)) {
      this.tuned(r);
      return;
    }
    if (key === (Command.close | RESPONSE)) {
      this.socket.end();
      return;
    }
    if ((key & RESPONSE) !== 0) {
      if (key === (Command.consumerUpdate | RESPONSE)) {
        this.consumerUpdated(r);
        return;
      }
      throw new BrokerError('MALFORMED_INPUT', `unexpected response 0x${key.toString(16)}`);
    }
    const correlationId = r.uint32();
    if (this.state !== 'open' && !this.allowedBeforeOpen(key)) throw new BrokerError('MALFORMED_INPUT', `command ${key} before open`);
    void this.request(key, correlationId, r).catch((err: unknown) => {
      if (err instanceof BrokerError && err.code === 'MALFORMED_INPUT') this.refuse(Code.unknownFrame, 'unknown frame');
      else {
        this.logger.error({ err, key }, 'stream request failed');
        this.write(response(key, correlationId, Code.internalError).finish());
      }
    });
  }

  private allowedBeforeOpen(key: number): boolean {
    switch (key) {
      case Command.peerProperties:
        return this.state === 'peer-properties';
      case Command.saslHandshake:
      case Command.saslAuthenticate:
        return this.state === 'sasl';
      case Command.open:
        return this.state === 'open-wait';
      case Command.close:
        return true;
      default:
        return false;
    }
  }

  private async request(key: number, correlationId: number, r: FrameReader): Promise<void> {
    switch (key) {
      case Command.peerProperties:
        return this.peerProperties(correlationId, r);
      case Command.saslHandshake:
        return this.saslHandshake(correlationId);
      case Command.saslAuthenticate:
        return this.saslAuthenticate(correlationId, r);
      case Command.open:
        return this.open(correlationId, r);
      case Command.close:
        this.write(response(Command.close, correlationId, Code.ok).finish());
        this.state = 'closing';
        this.socket.end();
        return;
      case Command.declarePublisher:
        return this.declarePublisher(correlationId, r);
      case Command.queryPublisherSequence:
        return this.queryPublisherSequence(correlationId, r);
      case Command.deletePublisher:
        return this.deletePublisher(correlationId, r);
      case Command.subscribe:
        return this.subscribe(correlationId, r);
      case Command.unsubscribe:
        return this.unsubscribe(correlationId, r);
      case Command.queryOffset:
        return this.queryOffset(correlationId, r);
      case Command.create:
        return this.create(correlationId, r);
      case Command.delete:
        return this.deleteStream(correlationId, r);
      case Command.metadata:
        return this.metadata(correlationId, r);
      case Command.route:
        return this.route(correlationId, r);
      case Command.partitions:
        return this.partitions(correlationId, r);
      case Command.exchangeCommandVersions:
        return this.exchangeCommandVersions(correlationId, r);
      case Command.streamStats:
        return this.streamStats(correlationId, r);
      case Command.createSuperStream:
        return this.createSuperStream(correlationId, r);
      case Command.deleteSuperStream:
        return this.deleteSuperStream(correlationId, r);
      default:
        this.refuse(Code.unknownFrame, `unknown command ${key}`);
    }
  }

  // ---- handshake

  private peerProperties(correlationId: number, r: FrameReader): void {
    this.clientProperties = r.properties();
    this.state = 'sasl';
    const properties = new Map([
      ['product', 'RabbitMQ'],
      ['version', this.server.announcedVersion],
      ['platform', `Node.js ${process.version}`],
      ['copyright', 'Wharf'],
      ['information', 'Wharf: the RabbitMQ Stream protocol over a shared log'],
      ['cluster_name', 'wharf'],
    ]);
    this.write(response(Command.peerProperties, correlationId, Code.ok).properties(properties).finish());
  }

  private saslHandshake(correlationId: number): void {
    this.write(response(Command.saslHandshake, correlationId, Code.ok).int32(1).string('PLAIN').finish());
  }

  private async saslAuthenticate(correlationId: number, r: FrameReader): Promise<void> {
    const mechanism = r.text();
    const data = r.bytes() ?? Buffer.alloc(0);
    if (mechanism !== 'PLAIN') {
      this.write(response(Command.saslAuthenticate, correlationId, Code.saslMechanismNotSupported).finish());
      return;
    }
    this.saslMechanism = mechanism;
    const parts = data.toString('utf8').split('\u0000');
    if (parts.length !== 3) {
      this.write(response(Command.saslAuthenticate, correlationId, Code.saslError).finish());
      return;
    }
    const result = await this.server.users.login(parts[1]!, parts[2]!, this.socket.remoteAddress);
    if ('refused' in result) {
      this.server.security.authenticationFailed({ protocol: 'rabbitmq-stream', mechanism: this.saslMechanism, user: parts[1]!, remote: this.socket.remoteAddress ?? '', reason: result.refused });
      const code = result.refused === 'loopback' ? Code.authenticationFailureLoopback : Code.authenticationFailure;
      this.refuseLater(response(Command.saslAuthenticate, correlationId, code).finish());
      return;
    }
    this.user = result.user;
    this.state = 'tune';
    this.write(response(Command.saslAuthenticate, correlationId, Code.ok).finish());
    this.write(new FrameWriter().uint16(Command.tune).uint16(1).uint32(this.server.settings.frameMax).uint32(this.server.settings.heartbeat).finish());
  }

  private tuned(r: FrameReader): void {
    if (this.state !== 'tune') throw new BrokerError('MALFORMED_INPUT', 'unexpected tune');
    const frameMax = r.uint32();
    const heartbeat = r.uint32();
    this.frameMax = frameMax === 0 ? this.server.settings.frameMax : Math.min(frameMax, this.server.settings.frameMax);
    this.state = 'open-wait';
    if (heartbeat > 0) this.startHeartbeat(heartbeat);
  }

  private startHeartbeat(seconds: number): void {
    const ping = new FrameWriter().uint16(Command.heartbeat).uint16(1).finish();
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastReceived > seconds * 2000) {
        this.logger.info('missed heartbeats from the client: closing');
        this.socket.destroy();
        return;
      }
      this.write(ping);
    }, seconds * 1000);
    this.heartbeatTimer.unref();
  }

  private open(correlationId: number, r: FrameReader): void {
    const vhost = r.text();
    if (!this.server.settings.vhosts.includes(vhost) || !this.user!.canOpenVhost(vhost)) {
      this.refuseLater(response(Command.open, correlationId, Code.vhostAccessFailure).int32(0).finish());
      return;
    }
    this.vhost = vhost;
    this.state = 'open';
    this.frames.limit(this.frameMax);
    const { host, port } = this.server.advertised(this.socket);
    this.write(response(Command.open, correlationId, Code.ok).properties(new Map([['advertised_host', host], ['advertised_port', String(port)]])).finish());
  }

  // ---- streams

  private async create(correlationId: number, r: FrameReader): Promise<void> {
    const name = r.text();
    const args = r.properties();
    const code = await this.server.createStream(this.vhost, name, args, this.user!);
    this.write(response(Command.create, correlationId, code).finish());
  }

  private async deleteStream(correlationId: number, r: FrameReader): Promise<void> {
    const name = r.text();
    const code = await this.server.deleteStream(this.vhost, name, this.user!);
    this.write(response(Command.delete, correlationId, code).finish());
  }

  private async createSuperStream(correlationId: number, r: FrameReader): Promise<void> {
    const name = r.text();
    const partitions: string[] = [];
    for (let i = r.count(2); i > 0; i--) partitions.push(r.text());
    const bindingKeys: string[] = [];
    for (let i = r.count(2); i > 0; i--) bindingKeys.push(r.text());
    const args = r.properties();
    const code = await this.server.createSuperStream(this.vhost, name, partitions, bindingKeys, args, this.user!);
    this.write(response(Command.createSuperStream, correlationId, code).finish());
  }

  private async deleteSuperStream(correlationId: number, r: FrameReader): Promise<void> {
    const name = r.text();
    const code = await this.server.deleteSuperStream(this.vhost, name, this.user!);
    this.write(response(Command.deleteSuperStream, correlationId, code).finish());
  }

  private metadata(correlationId: number, r: FrameReader): void {
    const streams: string[] = [];
    for (let i = r.count(2); i > 0; i--) streams.push(r.text());
    const { host, port } = this.server.advertised(this.socket);
    const w = new FrameWriter().uint16(Command.metadata | RESPONSE).uint16(1).uint32(correlationId);
    w.int32(1).uint16(0).string(host).uint32(port);
    w.int32(streams.length);
    for (const stream of streams) {
      const exists = this.server.streamLog(this.vhost, stream) !== undefined;
      w.string(stream).uint16(exists ? Code.ok : Code.streamDoesNotExist).uint16(exists ? 0 : 0xffff).int32(0);
    }
    this.write(w.finish());
  }

  private route(correlationId: number, r: FrameReader): void {
    const routingKey = r.text();
    const superStream = r.text();
    const found = this.server.superStreamPartitions(this.vhost, superStream);
    if (!found) {
      this.write(response(Command.route, correlationId, Code.streamDoesNotExist).int32(0).finish());
      return;
    }
    const streams = found.filter((p) => p.bindingKey === routingKey).map((p) => p.stream);
    const w = response(Command.route, correlationId, Code.ok).int32(streams.length);
    for (const s of streams) w.string(s);
    this.write(w.finish());
  }

  private partitions(correlationId: number, r: FrameReader): void {
    const superStream = r.text();
    const found = this.server.superStreamPartitions(this.vhost, superStream);
    if (!found) {
      this.write(response(Command.partitions, correlationId, Code.streamDoesNotExist).int32(0).finish());
      return;
    }
    const w = response(Command.partitions, correlationId, Code.ok).int32(found.length);
    for (const p of found) w.string(p.stream);
    this.write(w.finish());
  }

  /** The client's versions: Deliver v2 when it reads it (RabbitMQ's process_client_command_api); the server's in answer. */
  private exchangeCommandVersions(correlationId: number, r: FrameReader): void {
    for (let i = r.count(6); i > 0; i--) {
      const key = r.uint16();
      r.uint16();
      const max = r.uint16();
      if (key === Command.deliver && max >= 2) this.deliverVersion = 2;
    }
    const w = response(Command.exchangeCommandVersions, correlationId, Code.ok).int32(SERVER_COMMAND_VERSIONS.length);
    for (const [key, min, max] of SERVER_COMMAND_VERSIONS) w.uint16(key).uint16(min).uint16(max);
    this.write(w.finish());
  }

  private streamStats(correlationId: number, r: FrameReader): void {
    const stream = r.text();
    const log = this.server.streamLog(this.vhost, stream);
    if (!log) {
      this.write(response(Command.streamStats, correlationId, Code.streamDoesNotExist).int32(0).finish());
      return;
    }
    if (!this.user!.allows(this.vhost, 'read', stream)) {
      this.write(response(Command.streamStats, correlationId, Code.accessRefused).int32(0).finish());
      return;
    }
    const w = response(Command.streamStats, correlationId, Code.ok).int32(3);
    w.string('first_chunk_id').int64(BigInt(log.logStartOffset < log.highWatermark ? log.logStartOffset : -1));
    w.string('committed_chunk_id').int64(BigInt(log.highWatermark - 1));
    w.string('committed_offset').int64(BigInt(log.highWatermark - 1));
    this.write(w.finish());
  }

  // ---- publishing

  private async declarePublisher(correlationId: number, r: FrameReader): Promise<void> {
    const id = r.uint8();
    const reference = r.string() ?? '';
    const stream = r.text();
    const answer = (code: number): void => void this.write(response(Command.declarePublisher, correlationId, code).finish());
    if (Buffer.byteLength(reference) > MAX_REFERENCE_LENGTH) return answer(Code.preconditionFailed);
    const log = this.server.streamLog(this.vhost, stream);
    if (!log) return answer(Code.streamDoesNotExist);
    if (!this.user!.allows(this.vhost, 'write', stream)) return answer(Code.accessRefused);
    if (this.publishers.has(id)) return answer(Code.preconditionFailed);
    const topic = log.topic;
    let tracking: Map<string, bigint> | undefined;
    if (reference !== '') {
      if ([...this.server.publishersOf(topic)].some((p) => p.reference === reference)) return answer(Code.preconditionFailed);
      tracking = await this.server.tracking.of(topic, log);
    }
    if (this.publishers.has(id)) return answer(Code.preconditionFailed);
    const publisher: Publisher = {
      id,
      topic,
      stream,
      reference: reference === '' ? undefined : reference,
      referenceBytes: reference === '' ? undefined : Buffer.from(reference),
      log,
      tracking,
    };
    this.publishers.set(id, publisher);
    answer(Code.ok);
  }

  private async queryPublisherSequence(correlationId: number, r: FrameReader): Promise<void> {
    const reference = r.text();
    const stream = r.text();
    const log = this.server.streamLog(this.vhost, stream);
    if (!log) {
      this.write(response(Command.queryPublisherSequence, correlationId, Code.streamDoesNotExist).uint64(0n).finish());
      return;
    }
    const table = await this.server.tracking.of(log.topic, log);
    this.write(response(Command.queryPublisherSequence, correlationId, Code.ok).uint64(table.get(reference) ?? 0n).finish());
  }

  private deletePublisher(correlationId: number, r: FrameReader): void {
    const id = r.uint8();
    const found = this.publishers.delete(id);
    this.write(response(Command.deletePublisher, correlationId, found ? Code.ok : Code.publisherDoesNotExist).finish());
  }

  /** The publishers of this connection (the server checks reference uniqueness across connections). */
  get publisherList(): Iterable<Publisher> {
    return this.publishers.values();
  }

  /**
   * A Publish frame: its messages join the batch of the publisher's publishes in this socket read
   * (appended as one batch when the read ends or another publisher or command comes), its ids that
   * batch's confirm. A duplicate (deduplication) is confirmed with the batch, not stored. A sub-entry
   * (v1) is appended as its own batch, after what the frame held before it; one RabbitMQ refuses (or
   * whose data does not unpack) gets PublishError with the ids after it, as RabbitMQ does.
   */
  private publish(r: FrameReader, version: number): void {
    const publisherId = r.uint8();
    const count = r.count(12);
    const publisher = this.publishers.get(publisherId);
    const storing = publisher !== undefined && !this.server.readOnly;
    if (storing && this.batching !== publisher) this.flushPublishes();
    if (storing) this.batching = publisher;
    const tracking = publisher?.tracking;
    const reference = publisher?.reference;
    let last = tracking && reference !== undefined ? (tracking.get(reference) ?? -1n) : -1n;
    let stored = 0;
    const buf = r.buf;
    for (let i = 0; i < count; i++) {
      const idAt = r.pos;
      r.skip(8);
      let filterStart = -1;
      let filterEnd = -1;
      if (version >= 2) {
        const filterLength = r.int16();
        if (filterLength >= 0) {
          filterStart = r.pos;
          r.skip(filterLength);
          filterEnd = r.pos;
        } else if (filterLength !== -1) throw new BrokerError('MALFORMED_INPUT', 'negative filter value length');
      }
      if (r.remaining > 0 && (buf[r.pos]! & SUB_ENTRY_FLAG) !== 0) {
        // RabbitMQ reads sub-entries in v1 frames only: a v2 one fails its parse and the connection.
        if (version >= 2) throw new BrokerError('MALFORMED_INPUT', 'sub-entry in a Publish v2');
        const entry = readSubEntry(r);
        if (!publisher) continue;
        if (!storing) {
          stored++;
          continue;
        }
        const problem = subEntryProblem(entry);
        if (problem === undefined) {
          const publishingId = buf.readBigUInt64BE(idAt);
          if (tracking && publishingId <= last) {
            this.batchIds.add(buf, idAt);
            continue;
          }
          if (tracking && reference !== undefined) tracking.set(reference, last); // for the batch flushed before it
          if (this.appendSubEntry(publisher, buf, entry, idAt)) {
            if (tracking) last = publishingId;
            continue;
          }
        }
        this.logger.warn({ stream: publisher.stream, problem: problem ?? 'data does not unpack' }, 'refusing a published sub-entry and the rest of its frame');
        this.refuseRest(publisherId, r, version, idAt, count - i);
        break;
      }
      const length = r.int32();
      if (length < 0 || length > r.remaining) throw new BrokerError('MALFORMED_INPUT', 'message length out of range');
      const start = r.pos;
      r.pos += length;
      if (!publisher) continue;
      if (tracking) {
        const publishingId = buf.readBigUInt64BE(idAt);
        if (publishingId <= last) {
          if (storing) this.batchIds.add(buf, idAt);
          continue;
        }
        last = publishingId;
      }
      stored++;
      if (!storing) continue;
      this.batchIds.add(buf, idAt);
      this.builder.add(buf, start, start + length, filterStart, filterEnd);
    }
    if (!publisher) return this.publishErrors(publisherId, this.idsOf(r, version), Code.publisherDoesNotExist);
    if (!storing) {
      // Read-only storage: nothing is stored; a frame of duplicates only is still confirmed.
      const ids = this.idsOf(r, version);
      if (stored > 0) this.publishErrors(publisherId, ids, Code.internalError);
      else this.confirms.confirm(publisherId, ids);
      return;
    }
    if (tracking && reference !== undefined) tracking.set(reference, last);
  }

  /**
   * Stores a sub-entry as its own batch (gzip-compressed when it came so), after the batch of the
   * publishes read before it; false when its data does not unpack.
   */
  private appendSubEntry(publisher: Publisher, frame: Buffer, entry: SubEntry, idAt: number): boolean {
    if (!addSubEntryMessages(frame, entry, this.subEntries)) return false;
    const { tracking, reference } = publisher;
    const publishingId = frame.readBigUInt64BE(idAt);
    const built = this.subEntries.build(Date.now(), tracking && reference !== undefined ? { reference: publisher.referenceBytes!, publishingId } : undefined, true);
    // Readers decompress a batch's records up to MAX_DECOMPRESSED_BYTES: one past it could not be read back.
    if (built.length - BATCH_HEADER_SIZE > MAX_DECOMPRESSED_BYTES) return false;
    this.flushPublishes();
    this.batching = publisher;
    if (tracking && reference !== undefined) tracking.set(reference, publishingId);
    this.append(publisher, entry.compression === SubEntryCompression.gzip ? gzipBatch(built) : built, Buffer.from(frame.subarray(idAt, idAt + 8)));
    return true;
  }

  /** PublishError (precondition failed) for the `left` entries from the one whose id is at `idAt`, as RabbitMQ refuses the rest of a frame after a refused sub-entry. */
  private refuseRest(publisherId: number, r: FrameReader, version: number, idAt: number, left: number): void {
    r.pos = idAt;
    const ids = new PublishingIds();
    for (let i = 0; i < left; i++) {
      ids.add(r.buf, r.pos);
      r.skip(8);
      skipEntry(r, version);
    }
    this.publishErrors(publisherId, ids.take(), Code.preconditionFailed);
  }

  /** Appends the batch the publishes read so far make; its ids are confirmed once it is stored. */
  private flushPublishes(): void {
    const publisher = this.batching;
    if (!publisher) return;
    this.batching = undefined;
    const ids = this.batchIds.take();
    if (this.builder.count === 0) {
      this.confirms.confirm(publisher.id, ids);
      return;
    }
    const { tracking, reference } = publisher;
    this.append(publisher, this.builder.build(Date.now(), tracking && reference !== undefined ? { reference: publisher.referenceBytes!, publishingId: tracking.get(reference)! } : undefined), ids);
  }

  /** Appends `batch` to the publisher's stream; `ids` are confirmed once it is stored. */
  private append(publisher: Publisher, batch: Buffer, ids: Buffer): void {
    const bytes = batch.length;
    this.pendingPublishBytes += bytes;
    if (this.pendingPublishBytes > MAX_PENDING_PUBLISH_BYTES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    publisher.log.append(batch).then(
      () => {
        this.appended(bytes);
        this.confirms.confirm(publisher.id, ids);
      },
      (err: unknown) => {
        this.appended(bytes);
        if (publisher.tracking) this.server.tracking.forget(publisher.topic);
        this.logger.warn({ err, stream: publisher.stream }, 'stream append failed');
        this.publishErrors(publisher.id, ids, Code.internalError);
      },
    );
  }

  /** Forgets the publishes not appended yet (the connection is refused); their deduplication state is reloaded from the log. */
  private dropPublishes(): void {
    const publisher = this.batching;
    if (!publisher) return;
    this.batching = undefined;
    this.batchIds.take();
    this.builder.reset();
    if (publisher.tracking) this.server.tracking.forget(publisher.topic);
  }

  private appended(bytes: number): void {
    this.pendingPublishBytes -= bytes;
    if (this.paused && this.pendingPublishBytes < MAX_PENDING_PUBLISH_BYTES / 2) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** The publishing ids of a Publish frame (8 bytes each), read again from its start. */
  private idsOf(r: FrameReader, version: number): Buffer {
    r.pos = 5;
    const ids = new PublishingIds();
    for (let i = r.int32(); i > 0; i--) {
      ids.add(r.buf, r.pos);
      r.skip(8);
      skipEntry(r, version);
    }
    return ids.take();
  }

  /** PublishError with `code` for every id of `ids` (8 bytes each). */
  private publishErrors(publisherId: number, ids: Buffer, code: number): void {
    const count = ids.length / 8;
    const w = new FrameWriter(4 + 9 + count * 10).uint16(Command.publishError).uint16(1).uint8(publisherId).int32(count);
    for (let at = 0; at < ids.length; at += 8) w.uint64(ids.readBigUInt64BE(at)).uint16(code);
    this.write(w.finish());
  }

  private writeAll(frames: Buffer[]): void {
    if (frames.length === 1) {
      this.write(frames[0]!);
      return;
    }
    this.socket.cork();
    for (const frame of frames) this.write(frame);
    this.socket.uncork();
  }

  // ---- consuming

  private async subscribe(correlationId: number, r: FrameReader): Promise<void> {
    const id = r.uint8();
    const stream = r.text();
    const offsetType = r.uint16();
    let offsetValue = 0n;
    if (offsetType === OffsetType.offset || offsetType === OffsetType.timestamp) offsetValue = r.uint64();
    else if (offsetType < OffsetType.first || offsetType > OffsetType.timestamp) throw new BrokerError('MALFORMED_INPUT', `offset type ${offsetType}`);
    const credit = r.uint16();
    const properties = r.remaining > 0 ? r.properties() : new Map<string, string>();
    const singleActive = properties.get('single-active-consumer') === 'true';
    const reference = properties.get('name');
    const answer = (code: number): void => void this.write(response(Command.subscribe, correlationId, code).finish());
    if (this.subscriptions.has(id)) return answer(Code.subscriptionIdAlreadyExists);
    const log = this.server.streamLog(this.vhost, stream);
    if (!log) return answer(Code.streamDoesNotExist);
    if (!this.user!.allows(this.vhost, 'read', stream)) return answer(Code.accessRefused);
    let nextOffset: number;
    switch (offsetType) {
      case OffsetType.first:
        nextOffset = log.logStartOffset;
        break;
      case OffsetType.last:
        nextOffset = Math.max(log.logStartOffset, log.highWatermark - 1);
        break;
      case OffsetType.next:
        nextOffset = log.highWatermark;
        break;
      case OffsetType.offset: {
        const wanted = offsetValue > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(offsetValue);
        nextOffset = Math.min(Math.max(wanted, log.logStartOffset), log.highWatermark);
        break;
      }
      default: {
        const found = await log.offsetForTime(Number(BigInt.asIntN(64, offsetValue)));
        nextOffset = found ? found.offset : log.highWatermark;
      }
    }
    if (this.subscriptions.has(id)) return answer(Code.subscriptionIdAlreadyExists);
    if (singleActive && !reference) return answer(Code.preconditionFailed);
    const subscription: Subscription = {
      id,
      topic: log.topic,
      stream,
      log,
      nextOffset,
      pending: EMPTY,
      pendingAt: 0,
      aborted: [],
      ready: undefined,
      credit,
      active: !singleActive,
      group: singleActive ? reference : undefined,
      initialOffset: nextOffset,
      filter: filterOf(properties),
      pumping: false,
      again: false,
      closed: false,
      unwatch: () => {},
    };
    subscription.unwatch = log.watch(() => this.pump(subscription));
    this.subscriptions.set(id, subscription);
    answer(Code.ok);
    if (subscription.group !== undefined) {
      // As RabbitMQ's coordinator, the group answers later than Subscribe: clients register the
      // consumer once Subscribe is answered, and a ConsumerUpdate in the same read would find none.
      const partitionIndex = this.server.partitionIndexOf(log.topic);
      setTimeout(() => {
        if (!subscription.closed) this.server.singleActive.join(log.topic, subscription.group!, partitionIndex, this.memberOf(subscription));
      }, GROUP_JOIN_DELAY_MS).unref();
    } else this.pump(subscription);
  }

  private readonly members = new Map<Subscription, { setActive(active: boolean): void }>();

  /** The subscription as a single-active-consumer group member: activation goes through ConsumerUpdate. */
  private memberOf(subscription: Subscription): { setActive(active: boolean): void } {
    let member = this.members.get(subscription);
    if (!member) {
      member = { setActive: (active) => this.consumerUpdate(subscription, active) };
      this.members.set(subscription, member);
    }
    return member;
  }

  private nextCorrelationId = 1;
  private readonly consumerUpdates = new Map<number, Subscription>();

  private consumerUpdate(subscription: Subscription, active: boolean): void {
    if (subscription.closed) return;
    subscription.active = false;
    const correlationId = this.nextCorrelationId++;
    if (active) this.consumerUpdates.set(correlationId, subscription);
    this.write(new FrameWriter().uint16(Command.consumerUpdate).uint16(1).uint32(correlationId).uint8(subscription.id).uint8(active ? 1 : 0).finish());
  }

  /** The active consumer says where to start (or `none`: where it subscribed); delivery begins. */
  private consumerUpdated(r: FrameReader): void {
    const correlationId = r.uint32();
    const code = r.uint16();
    const subscription = this.consumerUpdates.get(correlationId);
    if (!subscription) return;
    this.consumerUpdates.delete(correlationId);
    if (subscription.closed) return;
    const log = subscription.log;
    let offset = subscription.initialOffset;
    if (code === Code.ok && r.remaining >= 2) {
      const type = r.uint16();
      const value = type === OffsetType.offset || type === OffsetType.timestamp ? r.uint64() : 0n;
      if (type === OffsetType.first) offset = log.logStartOffset;
      else if (type === OffsetType.last) offset = Math.max(log.logStartOffset, log.highWatermark - 1);
      else if (type === OffsetType.next) offset = log.highWatermark;
      else if (type === OffsetType.offset) offset = Math.min(Math.max(Number(value), log.logStartOffset), log.highWatermark);
    }
    subscription.nextOffset = offset;
    subscription.pending = EMPTY;
    subscription.ready = undefined;
    subscription.active = true;
    this.pump(subscription);
  }

  private credit(r: FrameReader): void {
    const id = r.uint8();
    const credit = r.uint16();
    const subscription = this.subscriptions.get(id);
    if (!subscription) {
      this.write(new FrameWriter().uint16(Command.credit | RESPONSE).uint16(1).uint16(Code.subscriptionIdDoesNotExist).uint8(id).finish());
      return;
    }
    subscription.credit = Math.min(subscription.credit + credit, 0xffff);
    this.pump(subscription);
  }

  private unsubscribe(correlationId: number, r: FrameReader): void {
    const id = r.uint8();
    const subscription = this.subscriptions.get(id);
    if (!subscription) {
      this.write(response(Command.unsubscribe, correlationId, Code.subscriptionIdDoesNotExist).finish());
      return;
    }
    this.endSubscription(subscription);
    this.write(response(Command.unsubscribe, correlationId, Code.ok).finish());
  }

  private endSubscription(subscription: Subscription): void {
    subscription.closed = true;
    subscription.unwatch();
    this.subscriptions.delete(subscription.id);
    const member = this.members.get(subscription);
    if (member) {
      this.members.delete(subscription);
      this.server.singleActive.leave(subscription.topic, subscription.group!, member);
    }
  }

  /** Sends chunks while the subscription has credit and the log has committed batches past its offset. */
  private pump(subscription: Subscription): void {
    if (subscription.pumping) {
      subscription.again = true;
      return;
    }
    subscription.pumping = true;
    void this.deliver(subscription)
      .catch((err: unknown) => {
        if (subscription.closed || this.closed) return;
        if (err instanceof BrokerError && err.code === 'OFFSET_OUT_OF_RANGE') {
          subscription.nextOffset = subscription.log.logStartOffset;
          subscription.pending = EMPTY;
          subscription.ready = undefined;
          subscription.again = true;
          return;
        }
        this.logger.error({ err, stream: subscription.stream }, 'stream delivery failed');
        this.endSubscription(subscription);
        this.metadataUpdate(subscription.stream);
      })
      .finally(() => {
        subscription.pumping = false;
        if (subscription.again && !subscription.closed) {
          subscription.again = false;
          this.pump(subscription);
        }
      });
  }

  /**
   * Writes a chunk per credit. The next chunk is built as soon as the last one is written, credit or
   * not: a client granting one credit per chunk it has handled (the usual policy) finds it ready
   * instead of waiting for the read and encoding.
   */
  private async deliver(s: Subscription): Promise<void> {
    while (!s.closed && !this.closed && s.active) {
      if (!s.ready) {
        const frame = await this.nextChunk(s);
        if (!frame || s.closed || !s.active) return;
        s.ready = frame;
      }
      if (s.credit === 0) return;
      const frame = s.ready;
      s.ready = undefined;
      s.credit--;
      if (!this.write(frame) && !this.closed) await this.drained();
    }
  }

  /** The Deliver frame of the next chunk past the subscription's offset, if the log has committed one. */
  private async nextChunk(s: Subscription): Promise<Buffer | undefined> {
    for (;;) {
      if (s.pendingAt >= s.pending.length) {
        if (s.nextOffset >= s.log.highWatermark) return undefined;
        if (s.nextOffset < s.log.logStartOffset) s.nextOffset = s.log.logStartOffset;
        const from = s.nextOffset;
        const { records, aborted } = await readCommitted(s.log, from, READ_BYTES);
        if (records.length === 0 || s.closed || s.nextOffset !== from) return undefined;
        s.pending = records;
        s.pendingAt = 0;
        s.aborted = aborted;
      }
      const chunk = this.chunks.encode(s.id, s.pending, s.pendingAt, s.nextOffset, s.aborted, { version: this.deliverVersion, committedChunkId: s.log.highWatermark - 1, filter: s.filter });
      s.pendingAt = chunk.next;
      s.nextOffset = chunk.nextOffset;
      if (s.pendingAt >= s.pending.length) s.pending = EMPTY;
      if (chunk.frame) return chunk.frame;
    }
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** RabbitMQ's MetadataUpdate: the stream is gone (deleted) for its publishers and consumers here. */
  streamDeleted(topic: string, stream: string): void {
    let affected = false;
    for (const s of [...this.subscriptions.values()]) {
      if (s.topic !== topic) continue;
      this.endSubscription(s);
      affected = true;
    }
    for (const p of [...this.publishers.values()]) {
      if (p.topic !== topic) continue;
      this.publishers.delete(p.id);
      affected = true;
    }
    if (affected) this.metadataUpdate(stream);
  }

  private metadataUpdate(stream: string): void {
    this.write(new FrameWriter().uint16(Command.metadataUpdate).uint16(1).uint16(Code.streamNotAvailable).string(stream).finish());
  }

  // ---- offsets

  private storeOffset(r: FrameReader): void {
    const reference = r.text();
    const stream = r.text();
    const offset = r.uint64();
    if (reference === '' || Buffer.byteLength(reference) > MAX_REFERENCE_LENGTH) return;
    const log = this.server.streamLog(this.vhost, stream);
    if (!log || !this.user!.allows(this.vhost, 'read', stream)) return;
    this.server.storeOffset(log.topic, reference, offset).catch((err: unknown) => this.logger.warn({ err, stream }, 'storing a consumer offset failed'));
  }

  private async queryOffset(correlationId: number, r: FrameReader): Promise<void> {
    const reference = r.text();
    const stream = r.text();
    const log = this.server.streamLog(this.vhost, stream);
    if (!log) {
      this.write(response(Command.queryOffset, correlationId, Code.streamDoesNotExist).uint64(0n).finish());
      return;
    }
    if (!this.user!.allows(this.vhost, 'read', stream)) {
      this.write(response(Command.queryOffset, correlationId, Code.accessRefused).uint64(0n).finish());
      return;
    }
    const offset = this.server.queryOffset(log.topic, reference);
    if (offset === undefined) this.write(response(Command.queryOffset, correlationId, Code.noOffset).uint64(0n).finish());
    else this.write(response(Command.queryOffset, correlationId, Code.ok).uint64(offset).finish());
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const s of [...this.subscriptions.values()]) this.endSubscription(s);
    this.dropPublishes();
    this.confirms.clear();
    this.publishers.clear();
    this.onClosed(this);
  }
}
