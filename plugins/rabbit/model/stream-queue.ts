import { batchMatchesFilter, batchSizeAt, forEachRecord, isAbortedBatch, readCommitted, RecordBatch, StreamBatchBuilder, type AbortedTransaction, type Clock, type Logger, type PartitionLog, type QueuedMessage, type RecordHeader, type StreamFilter } from '../../../core/index.ts';
import { decodeProperties } from '../codec/index.ts';
import type { QueueArguments, StreamOffset } from './queue-arguments.ts';
import { AmqpQueue, type Delivery, type QueueConsumer, type QueueHooks, type QueueSpec } from './queue.ts';
import { amqp10MessageOf, streamDeliveryKey } from './stream-message.ts';
import type { StoredMessage } from './stored-message.ts';

/** Bytes a consumer's cursor reads from the log at a time. */
const READ_BYTES = 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const NONE_ABORTED: readonly AbortedTransaction[] = [];

/** One consumer's place in the stream. */
interface Cursor {
  readonly consumer: QueueConsumer;
  /** Records below this offset are not delivered (a numeric x-stream-offset inside a batch). */
  start: number;
  /** first, last and timestamp start at the beginning of the batch (osiris: the chunk) they fall in. */
  startAtBatch: boolean;
  /** The next offset to read from the log. */
  next: number;
  /** Batches read and not yet delivered, from `pendingAt`. */
  pending: Buffer;
  pendingAt: number;
  /** Only batches with a message it wants are delivered (x-stream-filter). */
  readonly filter: StreamFilter | undefined;
  /** Kafka transactions aborted among the pending batches: theirs are skipped. */
  aborted: readonly AbortedTransaction[];
  /** False until its start is known (a timestamp is looked up). */
  positioned: boolean;
  serving: boolean;
  again: boolean;
  closed: boolean;
}

/**
 * A RabbitMQ stream queue over AMQP 0-9-1: a core stream topic (one partition) shared with the stream
 * protocol and Kafka. Publishes are appended as AMQP 1.0 messages with core's stream mapping, batched per
 * turn of the event loop; each consumer reads the log with its own cursor, a batch (osiris: a chunk) at a
 * time while its prefetch has room, with the record's offset in an `x-stream-offset` header. Like every
 * stream reader it sees committed data only: nothing past the last stable offset, no aborted Kafka
 * transaction, no transaction marker. Acks only give credit back; nothing is ever removed by consuming.
 */
export class StreamQueue extends AmqpQueue {
  private readonly cursors: Cursor[] = [];
  private readonly builder = new StreamBatchBuilder();
  private appending: Promise<boolean> | undefined;
  private readonly unwatch: () => void;
  private gone = false;

  constructor(
    spec: QueueSpec,
    args: QueueArguments,
    readonly log: PartitionLog,
    hooks: QueueHooks,
    private readonly streamClock: Clock,
    private readonly logger: Logger,
  ) {
    super(spec, args, [], [], hooks, streamClock);
    this.unwatch = log.watch(() => this.pump());
  }

  override get messageCount(): number {
    return Math.max(0, this.log.highWatermark - this.log.logStartOffset);
  }

  override get unackedCount(): number {
    return 0;
  }

  override get consumerCount(): number {
    return this.cursors.length;
  }

  override enqueue(message: StoredMessage, body: Buffer): Promise<boolean> {
    if (this.gone) return Promise.resolve(true);
    const properties = decodeProperties(message.properties, 0, message.properties.length);
    const encoded = amqp10MessageOf(message.exchange, message.routingKey, properties, body);
    this.builder.add(encoded, 0, encoded.length);
    this.stats.published++;
    this.stats.publishedBytes += body.length;
    // The publishes of one turn go as one batch, confirmed together once the log stored it.
    this.appending ??= new Promise<boolean>((resolve) => {
      queueMicrotask(() => {
        this.appending = undefined;
        const batch = this.builder.build(this.streamClock.now());
        this.log.append(batch).then(
          () => resolve(true),
          (err: unknown) => {
            this.logger.error({ err, queue: this.name }, 'appending to a stream failed');
            resolve(false);
          },
        );
      });
    });
    return this.appending;
  }

  override addConsumer(consumer: QueueConsumer, offset: StreamOffset = { kind: 'next' }, filter?: StreamFilter): void {
    const log = this.log;
    const cursor: Cursor = { consumer, filter, start: 0, startAtBatch: false, next: log.highWatermark, pending: EMPTY, pendingAt: 0, aborted: NONE_ABORTED, positioned: true, serving: false, again: false, closed: false };
    switch (offset.kind) {
      case 'first':
        cursor.next = log.logStartOffset;
        cursor.startAtBatch = true;
        break;
      case 'last':
        cursor.next = Math.max(log.logStartOffset, log.highWatermark - 1);
        cursor.startAtBatch = true;
        break;
      case 'next':
        cursor.start = log.highWatermark;
        break;
      case 'offset':
        cursor.start = offset.offset;
        cursor.next = Math.min(Math.max(offset.offset, log.logStartOffset), log.highWatermark);
        break;
      case 'timestamp':
        cursor.positioned = false;
        cursor.startAtBatch = true;
        log.offsetForTime(offset.ms).then(
          (found) => {
            cursor.next = found ? found.offset : log.highWatermark;
            cursor.start = cursor.next;
            cursor.startAtBatch = found !== undefined;
            cursor.positioned = true;
            this.serve(cursor);
          },
          (err: unknown) => this.fail(cursor, err),
        );
        break;
    }
    this.cursors.push(cursor);
    this.serve(cursor);
  }

  override removeConsumer(tag: string): boolean {
    const at = this.cursors.findIndex((c) => c.consumer.tag === tag);
    if (at < 0) return false;
    const [cursor] = this.cursors.splice(at, 1);
    cursor!.closed = true;
    cursor!.pending = EMPTY;
    return true;
  }

  override get(): Delivery | undefined {
    return undefined;
  }

  override getWhenRead(): Promise<Delivery | undefined> {
    return Promise.resolve(undefined);
  }

  /** An ack only frees the consumer's prefetch (the channel counts it); the stream keeps the message. */
  override ack(): void {}

  override requeue(): void {}

  override reject(): void {}

  override requeueAll(): void {
    this.pump();
  }

  override deliveryCount(): number {
    return 0;
  }

  override pump(): void {
    for (const cursor of this.cursors) this.serve(cursor);
  }

  override markDeleted(): QueueConsumer[] {
    this.gone = true;
    this.unwatch();
    super.markDeleted();
    for (const cursor of this.cursors) cursor.closed = true;
    return this.cursors.splice(0).map((c) => c.consumer);
  }

  override touch(): void {}

  /** Delivers to the cursor's consumer while it has credit; reads the log as needed; once at a time per cursor. */
  private serve(cursor: Cursor): void {
    if (cursor.closed || !cursor.positioned || this.gone) return;
    if (cursor.serving) {
      cursor.again = true;
      return;
    }
    cursor.serving = true;
    cursor.again = false;
    this.deliverWhileReady(cursor).then(
      () => {
        cursor.serving = false;
        if (cursor.again) this.serve(cursor);
      },
      (err: unknown) => {
        cursor.serving = false;
        this.fail(cursor, err);
      },
    );
  }

  private async deliverWhileReady(cursor: Cursor): Promise<void> {
    const log = this.log;
    while (!cursor.closed && cursor.consumer.ready()) {
      if (cursor.pendingAt >= cursor.pending.length) {
        if (cursor.next < log.logStartOffset) cursor.next = log.logStartOffset;
        const { records, aborted } = await readCommitted(log, cursor.next, READ_BYTES);
        if (cursor.closed || records.length === 0) return;
        cursor.pending = records;
        cursor.pendingAt = 0;
        cursor.aborted = aborted;
      }
      this.deliverBatch(cursor);
    }
  }

  /** The next batch of the cursor's pending reads, whole (as osiris delivers a chunk), from its start on. */
  private deliverBatch(cursor: Cursor): void {
    const buf = cursor.pending;
    const pos = cursor.pendingAt;
    const size = batchSizeAt(buf, pos);
    if (size < 0) {
      cursor.pendingAt = buf.length;
      return;
    }
    cursor.pendingAt = pos + size;
    if (cursor.pendingAt >= buf.length) cursor.pending = EMPTY;
    const batch = new RecordBatch(buf, pos);
    if (batch.lastOffset < cursor.next) return;
    cursor.next = batch.lastOffset + 1;
    if (batch.isControl || isAbortedBatch(buf, pos, cursor.aborted)) return;
    if (cursor.filter && !batchMatchesFilter(buf, pos, cursor.filter)) return;
    if (cursor.startAtBatch) {
      cursor.start = batch.baseOffset;
      cursor.startAtBatch = false;
    }
    const start = cursor.start;
    forEachRecord(buf, pos, (offset: number, timestamp: number, _key, value, headers: RecordHeader[]) => {
      if (offset < start || cursor.closed) return;
      const message: QueuedMessage = { offset, timestamp, key: streamDeliveryKey(this.name, offset, headers), value, headers: [], attempts: 0, deadline: Infinity };
      cursor.consumer.deliver({ queue: this, level: 0, message });
    });
  }

  /** A cursor that cannot read the log (damaged, or deleted under it): its consumer is cancelled. */
  private fail(cursor: Cursor, err: unknown): void {
    if (cursor.closed) return;
    this.logger.error({ err, queue: this.name }, 'a stream consumer could not read the stream');
    this.removeConsumer(cursor.consumer.tag);
    cursor.consumer.cancelled();
  }
}
