import { BrokerError } from '../errors.ts';
import { decodeRecords, forEachRecord, RecordBatch, validateRecordBatch, type RecordHeader, type RecordVisitor } from '../record/index.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import type { AckState, AckStateStore } from './ack-state-store.ts';
import { IntTable } from './int-table.ts';
import { RangeSet } from './range-set.ts';

export interface QueuedMessage {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
  /** Times handed out before this delivery (0: first delivery). */
  attempts: number;
  /** In flight: when it becomes visible again (ms), or Infinity until acked or requeued. */
  deadline: number;
}

export interface AckQueueOptions {
  /** Bytes read ahead of the cursor; memory stays bounded by this, not by the queue's length. */
  readAheadBytes?: number;
  /** Decides at read time whether a message is kept or silently dropped (e.g. transient messages after a restart). */
  keep?: (message: QueuedMessage) => boolean;
  /** Delete finished segments (default). Off when other readers share the log, which then relies on retention. */
  reclaim?: boolean;
  /** Where a queue with no stored state starts (default: the log start). */
  startAt?: (log: PartitionLog) => number;
}

const DEFAULT_READ_AHEAD = 256 * 1024;
/** The ack floor moves this many offsets between attempts to delete finished segments. */
const RECLAIM_EVERY = 64;
/** A fully done log at least this large rolls its active segment so that the segment can be deleted. */
const ROLL_WHEN_DONE_BYTES = 4 * 1024 * 1024;

/**
 * A queue over a log: a cursor for fresh messages, an in-flight table, requeued messages delivered
 * first, and ack state persisted through an AckStateStore so a restart neither loses nor resurrects
 * messages. Done messages below the ack floor are reclaimed whole segments at a time.
 */
export class AckQueue {
  private readonly done: RangeSet;
  private floor: number;
  private delivered: number;
  private cursor: number;
  /** Read-ahead; slots below bufferHead are cleared so taken messages are not kept alive by it. */
  private readonly buffer: Array<QueuedMessage | undefined> = [];
  private bufferHead = 0;
  private readonly requeued: QueuedMessage[] = [];
  private readonly inFlight = new IntTable<QueuedMessage>();
  /** Delivery attempts of messages delivered and not done, by offset (persisted in the ack state). */
  private readonly attempts = new IntTable<number>();
  private filling: Promise<void> | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly unwatch: () => void;
  private reclaimedTo: number;
  private closed = false;
  /** Why the log can no longer be read past the cursor (damaged bytes); set once, for good. */
  private failure: BrokerError | undefined;
  private readonly failureListeners = new Set<(failure: BrokerError) => void>();

  private constructor(
    readonly id: string,
    readonly log: PartitionLog,
    private readonly store: AckStateStore,
    state: AckState | undefined,
    private readonly options: AckQueueOptions,
  ) {
    const start = state ? state.floor : (options.startAt?.(log) ?? 0);
    this.floor = Math.max(start, log.logStartOffset);
    this.done = RangeSet.from(state?.done ?? []);
    this.done.deleteBelow(this.floor);
    this.delivered = state?.delivered ?? this.floor;
    for (const [offset, attempts] of state?.attempts ?? []) this.attempts.set(offset, attempts);
    this.cursor = this.floor;
    this.reclaimedTo = log.logStartOffset;
    this.unwatch = log.watch(() => this.notify());
  }

  static async open(id: string, log: PartitionLog, store: AckStateStore, options: AckQueueOptions = {}): Promise<AckQueue> {
    return new AckQueue(id, log, store, store.get(id), options);
  }

  /** Messages neither done nor in flight. */
  get readyCount(): number {
    return this.log.highWatermark - this.floor - this.done.size - this.inFlight.size;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Set once the log could not be read (damaged on disk): nothing past what is buffered can be delivered. */
  get failed(): BrokerError | undefined {
    return this.failure;
  }

  /** Calls `listener` once if the queue fails; returns the unsubscribe function. */
  onFailure(listener: (failure: BrokerError) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /** The next ready message without taking it, if one is buffered. */
  peek(): QueuedMessage | undefined {
    const requeued = this.requeued[0];
    if (requeued) return requeued;
    this.skipDone();
    const fresh = this.buffer[this.bufferHead];
    if (!fresh) this.requestFill();
    return fresh;
  }

  /** Takes the next ready message (requeued first), in flight until acked, requeued or past `deadline`. */
  take(deadline = Infinity): QueuedMessage | undefined {
    const message = this.peek();
    if (!message) return undefined;
    this.removeReady(message);
    message.deadline = deadline;
    this.inFlight.set(message.offset, message);
    if (message.offset >= this.delivered) this.delivered = message.offset + 1;
    this.attempts.set(message.offset, message.attempts + 1);
    this.changed();
    return message;
  }

  /** Takes the next ready message as already done: delivery without acknowledgement (AMQP no-ack). */
  takeSettled(): QueuedMessage | undefined {
    const message = this.peek();
    if (!message) return undefined;
    this.removeReady(message);
    if (message.offset >= this.delivered) this.delivered = message.offset + 1;
    this.markDone(message.offset);
    return message;
  }

  /** Done: acknowledged. Unknown offsets are ignored. */
  ack(offset: number): boolean {
    if (!this.inFlight.delete(offset)) return false;
    this.markDone(offset);
    return true;
  }

  /**
   * Back to ready, ahead of fresh messages, counted as one more attempt: at its place by offset among the
   * requeued ones, or (`inReturnOrder`) after them, as a queue that serves returns in the order they came.
   */
  requeue(offset: number, inReturnOrder = false): boolean {
    const message = this.inFlight.get(offset);
    if (!message) return false;
    this.inFlight.delete(offset);
    message.attempts++;
    message.deadline = Infinity;
    const at = inReturnOrder ? -1 : this.requeued.findIndex((m) => m.offset > offset);
    this.requeued.splice(at < 0 ? this.requeued.length : at, 0, message);
    this.changed();
    this.notify();
    return true;
  }

  /** Done without delivery: expired, dropped for length, dead-lettered, taken out of flight, or ready. */
  drop(message: QueuedMessage): void {
    if (this.inFlight.delete(message.offset)) {
      this.markDone(message.offset);
      return;
    }
    const at = this.requeued.indexOf(message);
    if (at >= 0) this.requeued.splice(at, 1);
    else if (this.buffer[this.bufferHead] === message) this.advanceHead();
    this.markDone(message.offset);
  }

  /** Moves the deadline of an in-flight message. */
  extend(offset: number, deadline: number): boolean {
    const message = this.inFlight.get(offset);
    if (!message) return false;
    message.deadline = deadline;
    return true;
  }

  /** Every offset below this one is done (acknowledged, dropped or purged). */
  get ackFloor(): number {
    return this.floor;
  }

  /** Whether a stored message is still the queue's: ready or in flight, not done. */
  isPending(offset: number): boolean {
    return offset >= this.floor && offset < this.log.highWatermark && !this.done.has(offset);
  }

  /** How often a message was handed out and not acknowledged (0 for a fresh one). */
  attemptsOf(offset: number): number {
    return this.attempts.get(offset) ?? 0;
  }

  inFlightMessage(offset: number): QueuedMessage | undefined {
    return this.inFlight.get(offset);
  }

  /** Requeues every in-flight message whose deadline is at or before `now`; returns them. */
  expireInFlight(now: number): QueuedMessage[] {
    const expired = this.inFlight.valueList().filter((m) => m.deadline <= now);
    for (const message of expired) this.requeue(message.offset);
    return expired;
  }

  /** The earliest in-flight deadline, or Infinity. */
  get nextDeadline(): number {
    let next = Infinity;
    this.inFlight.forEach((message) => {
      if (message.deadline < next) next = message.deadline;
    });
    return next;
  }

  /** Marks every ready message done; returns how many. In-flight messages stay. */
  purge(): number {
    const before = this.readyCount;
    for (const message of this.requeued.splice(0)) this.markDone(message.offset, false);
    for (let i = this.bufferHead; i < this.buffer.length; i++) this.done.add(this.buffer[i]!.offset);
    this.buffer.length = 0;
    this.bufferHead = 0;
    const end = this.log.highWatermark;
    const inFlight = this.inFlight.sortedKeys().filter((o) => o >= this.cursor);
    let from = this.cursor;
    for (const offset of inFlight) {
      this.done.addRange(from, offset);
      from = offset + 1;
    }
    this.done.addRange(from, end);
    this.cursor = Math.max(this.cursor, end);
    this.advanceFloor();
    this.changed();
    return before - this.readyCount;
  }

  /**
   * Applies the `keep` filter to every message below `until` now rather than when it is first read,
   * so counts are exact at once (after a restart, transient messages are dropped this way).
   */
  async sweep(until: number): Promise<void> {
    const keep = this.options.keep;
    if (!keep) return;
    try {
      for (let offset = Math.max(this.floor, this.log.logStartOffset); offset < until; ) {
        const { records } = await this.log.read(offset, this.options.readAheadBytes ?? DEFAULT_READ_AHEAD, until);
        if (records.length === 0) break;
        for (let pos = 0; pos < records.length; ) {
          validateRecordBatch(records, pos);
          const batch = new RecordBatch(records, pos);
          for (const record of decodeRecords(batch.bytes)) {
            if (record.offset < offset || this.done.has(record.offset)) continue;
            const probe: QueuedMessage = { offset: record.offset, timestamp: record.timestamp, key: record.key, value: record.value, headers: record.headers, attempts: 0, deadline: Infinity };
            if (!keep(probe)) this.markDone(record.offset);
          }
          offset = batch.nextOffset;
          pos += batch.sizeInBytes;
        }
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** Resolves when take() may return something new: data arrived, a message was requeued, or the read-ahead filled. */
  available(): Promise<void> {
    if (this.peek()) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve) => {
      const listener = (): void => {
        this.listeners.delete(listener);
        resolve();
      };
      this.listeners.add(listener);
    });
  }

  /** Calls `listener` whenever new messages may be takeable; returns the unsubscribe function. */
  onAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every in-flight message back to ready (a consumer went away), in offset order. */
  requeueAll(offsets: Iterable<number>): void {
    for (const offset of [...offsets].sort((a, b) => b - a)) this.requeue(offset);
  }

  snapshot(): AckState {
    return {
      floor: this.floor,
      done: this.done.toArray(),
      delivered: this.delivered,
      attempts: this.attempts.sortedKeys().filter((offset) => offset >= this.floor && !this.done.has(offset)).map((offset) => [offset, this.attempts.get(offset)!]),
    };
  }

  close(): void {
    this.closed = true;
    this.unwatch();
    this.listeners.clear();
    this.failureListeners.clear();
  }

  /** `message` is the head peek() returned: off the requeued list or the read-ahead. */
  private removeReady(message: QueuedMessage): void {
    if (message === this.requeued[0]) this.requeued.shift();
    else this.advanceHead();
    if (this.bufferHead === this.buffer.length) {
      this.buffer.length = 0;
      this.bufferHead = 0;
    } else if (this.bufferHead > 1024 && this.bufferHead * 2 > this.buffer.length) {
      this.buffer.splice(0, this.bufferHead);
      this.bufferHead = 0;
    }
  }

  private markDone(offset: number, notify = true): void {
    if (offset === this.floor && this.done.size === 0) this.floor++;
    else this.done.add(offset);
    if (this.attempts.size > 0) this.attempts.delete(offset);
    this.advanceFloor();
    if (notify) this.changed();
  }

  private advanceFloor(): void {
    if (this.done.min <= this.floor) {
      this.floor = Math.max(this.floor, this.done.firstEnd);
      this.done.deleteBelow(this.floor);
    }
    if (this.options.reclaim !== false && this.floor - this.reclaimedTo >= RECLAIM_EVERY) {
      this.reclaimedTo = this.floor;
      const floor = this.floor;
      // The log keeps its active segment: once everything in it is done and it holds enough to be worth a
      // new file, roll it so it can go too — a busy queue whose consumers keep up stays small on disk.
      const rollFirst = floor >= this.log.logEndOffset && this.log.size >= ROLL_WHEN_DONE_BYTES;
      void (rollFirst ? this.log.roll() : Promise.resolve()).then(() => this.log.deleteBefore(floor)).catch(() => undefined);
    }
  }

  private readonly snapshotNow = (): AckState => this.snapshot();

  private changed(): void {
    this.store.markDirty(this.id, this.snapshotNow);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private skipDone(): void {
    while (this.bufferHead < this.buffer.length && this.done.has(this.buffer[this.bufferHead]!.offset)) this.advanceHead();
  }

  private advanceHead(): void {
    this.buffer[this.bufferHead++] = undefined;
  }

  private requestFill(): void {
    if (this.filling || this.closed || this.failure || this.cursor >= this.log.highWatermark) return;
    this.filling = this.fill()
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        this.filling = undefined;
        if (this.buffer.length > this.bufferHead || this.failure) this.notify();
        else if (this.cursor < this.log.highWatermark) this.requestFill();
      });
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    this.failure = BrokerError.is(err) ? err : new BrokerError('STORAGE_IO', `queue ${this.id} could not read its log`, { cause: err });
    for (const listener of [...this.failureListeners]) listener(this.failure);
    this.failureListeners.clear();
  }

  private async fill(): Promise<void> {
    if (this.bufferHead > 0) {
      this.buffer.splice(0, this.bufferHead);
      this.bufferHead = 0;
    }
    const { records } = await this.log.read(Math.max(this.cursor, this.log.logStartOffset), this.options.readAheadBytes ?? DEFAULT_READ_AHEAD);
    for (let pos = 0; pos < records.length; ) {
      // Queue clients (AMQP, RocketMQ) check no CRC of their own: a batch damaged on disk must not be delivered.
      validateRecordBatch(records, pos);
      const batch = new RecordBatch(records, pos);
      forEachRecord(records, pos, this.readRecord);
      this.cursor = Math.max(this.cursor, batch.nextOffset);
      pos += batch.sizeInBytes;
    }
  }

  /** One record read from the log: buffered as ready unless done, in flight, or refused by `keep`. */
  private readonly readRecord: RecordVisitor = (offset, timestamp, key, value, headers) => {
    if (offset < this.cursor) return;
    this.cursor = offset + 1;
    if (offset < this.floor || this.done.has(offset) || this.inFlight.has(offset)) return;
    const message: QueuedMessage = {
      offset,
      timestamp,
      key,
      value,
      headers,
      attempts: this.attempts.get(offset) ?? (offset < this.delivered ? 1 : 0),
      deadline: Infinity,
    };
    if (this.options.keep && !this.options.keep(message)) {
      this.markDone(offset);
      return;
    }
    this.buffer.push(message);
  };
}
