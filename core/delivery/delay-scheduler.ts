import type { Clock, Timer } from '../clock.ts';
import { BrokerError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { decodeRecords, RecordBatch, type RecordHeader, type RecordInput } from '../record/index.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import type { AckStateStore } from './ack-state-store.ts';
import { BatchingAppender } from './batching-appender.ts';
import { RangeSet } from './range-set.ts';
import { TimerHeap } from './timer-heap.ts';

export interface DueEntry {
  readonly offset: number;
  readonly dueAt: number;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
}

export interface DelaySchedulerOptions {
  /** Furthest ahead an entry may be due (default one day). */
  maxDelayMs?: number;
  /** Entries handed to the handler at once (default 1024). */
  maxBatch?: number;
}

const DEFAULT_MAX_DELAY_MS = 24 * 3600 * 1000;
const DEFAULT_MAX_BATCH = 1024;
/** Entries are single-record batches: a small read serves one entry, or a run of neighbours due together. */
const READ_BYTES = 2 * 1024;
const RETRY_AFTER_MS = 1000;
const RECLAIM_INTERVAL_MS = 5000;

/**
 * Durable timed work. Each entry is a record in the scheduler's own log, its timestamp the due time;
 * memory holds only a heap of (due, offset) pairs in typed arrays, so a million timers cost ~16 MB.
 * Entries fire in (due, offset) order, in batches, at least once: progress is persisted as the time up
 * to which everything has fired, plus the cancelled offsets; a restart rebuilds the heap from the log.
 */
export class DelayScheduler {
  private readonly heap = new TimerHeap();
  private readonly cancelled: RangeSet;
  private readonly firing = new Set<number>();
  private readonly appender: BatchingAppender;
  private firedThrough: number;
  private floor: number;
  private handler: ((entries: DueEntry[]) => Promise<void>) | undefined;
  private timer: Timer | undefined;
  private armedFor = Infinity;
  private running: Promise<void> | undefined;
  /** Due times of entries being appended: firing progress must not pass them before they reach the heap. */
  private readonly appending = new Set<{ due: number }>();
  private lastReclaim = 0;
  private closed = false;

  private constructor(
    readonly id: string,
    private readonly log: PartitionLog,
    private readonly store: AckStateStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: Required<DelaySchedulerOptions>,
  ) {
    const state = store.get(id);
    this.firedThrough = state?.firedThrough ?? -Infinity;
    this.floor = Math.max(state?.floor ?? 0, log.logStartOffset);
    this.cancelled = RangeSet.from(state?.done ?? []);
    this.appender = new BatchingAppender(log, { recordPerBatch: true });
  }

  static async open(id: string, log: PartitionLog, store: AckStateStore, clock: Clock, logger: Logger, options: DelaySchedulerOptions = {}): Promise<DelayScheduler> {
    const scheduler = new DelayScheduler(id, log, store, clock, logger, { maxDelayMs: options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS, maxBatch: options.maxBatch ?? DEFAULT_MAX_BATCH });
    await scheduler.rebuild();
    return scheduler;
  }

  /** Entries waiting to fire. */
  get size(): number {
    return this.heap.size;
  }

  /** Starts firing: `handler` gets due entries; they count as fired once it resolves, and retry if it rejects. */
  onDue(handler: (entries: DueEntry[]) => Promise<void>): void {
    this.handler = handler;
    this.arm();
  }

  /** Stores an entry due at `dueAt` (ms); resolves with its offset once it is durable. */
  async schedule(dueAt: number, record: RecordInput): Promise<number> {
    const now = this.clock.now();
    if (!(dueAt - now <= this.options.maxDelayMs)) throw new BrokerError('INVALID_DELAY', `due time ${dueAt} is more than ${this.options.maxDelayMs} ms ahead`);
    const due = Math.max(Math.floor(dueAt), this.firedThrough + 1);
    const pending = { due };
    this.appending.add(pending);
    try {
      const offset = await this.appender.append({ ...record, timestamp: due });
      this.heap.push(due, offset);
      if (due < this.armedFor) this.arm();
      return offset;
    } finally {
      this.appending.delete(pending);
    }
  }

  /** Cancels a pending entry if `accept` approves it; returns the entry, or undefined if it already fired or is unknown. */
  async cancel(offset: number, accept: (entry: DueEntry) => boolean = () => true): Promise<DueEntry | undefined> {
    if (!Number.isSafeInteger(offset) || offset < this.floor || offset >= this.log.highWatermark || this.cancelled.has(offset) || this.firing.has(offset)) return undefined;
    const [entry] = await this.read([offset]);
    if (!entry || entry.dueAt <= this.firedThrough || this.firing.has(offset) || !accept(entry)) return undefined;
    this.cancelled.add(offset);
    this.changed();
    return entry;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    await this.running;
  }

  private async rebuild(): Promise<void> {
    this.cancelled.deleteBelow(this.floor);
    for (let offset = this.floor; offset < this.log.highWatermark; ) {
      const { records } = await this.log.read(offset, 1024 * 1024);
      if (records.length === 0) break;
      for (let pos = 0; pos < records.length; ) {
        const batch = new RecordBatch(records, pos);
        for (const record of decodeRecords(batch.bytes)) {
          if (record.offset < offset || record.timestamp <= this.firedThrough || this.cancelled.has(record.offset)) continue;
          this.heap.push(record.timestamp, record.offset);
        }
        offset = batch.nextOffset;
        pos += batch.sizeInBytes;
      }
    }
  }

  private arm(): void {
    if (this.closed || !this.handler || this.running) return;
    this.timer?.cancel();
    this.armedFor = this.heap.nextDue;
    if (this.armedFor === Infinity) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.armedFor = Infinity;
      this.running = this.fireDue().finally(() => {
        this.running = undefined;
        this.arm();
      });
    }, Math.max(0, this.armedFor - this.clock.now()));
  }

  private async fireDue(): Promise<void> {
    while (!this.closed && this.heap.nextDue <= this.clock.now()) {
      const offsets: number[] = [];
      let lastDue = -Infinity;
      while (offsets.length < this.options.maxBatch && this.heap.nextDue <= this.clock.now()) {
        const offset = this.heap.nextOffset;
        lastDue = this.heap.nextDue;
        this.heap.pop();
        if (!this.cancelled.has(offset)) offsets.push(offset);
      }
      for (const offset of offsets) this.firing.add(offset);
      try {
        const entries = await this.read(offsets.sort((a, b) => a - b));
        entries.sort((a, b) => a.dueAt - b.dueAt || a.offset - b.offset);
        if (entries.length > 0) await this.handler!(entries);
        let progress = Math.min(lastDue, this.heap.nextDue - 1);
        for (const { due } of this.appending) progress = Math.min(progress, due - 1);
        this.firedThrough = Math.max(this.firedThrough, progress);
        this.changed();
      } catch (err) {
        this.logger.error({ err, scheduler: this.id, entries: offsets.length }, 'delayed entries failed to fire; retrying');
        for (const offset of offsets) this.heap.push(this.clock.now() + RETRY_AFTER_MS, offset);
        return;
      } finally {
        this.firing.clear();
      }
    }
    this.reclaim();
  }

  /** The entries at `offsets` (ascending), read batch by batch. */
  private async read(offsets: readonly number[]): Promise<DueEntry[]> {
    const entries: DueEntry[] = [];
    let i = 0;
    while (i < offsets.length) {
      if (offsets[i]! < this.log.logStartOffset) {
        i++;
        continue;
      }
      const { records } = await this.log.read(offsets[i]!, READ_BYTES);
      if (records.length === 0) break;
      const before = i;
      for (let pos = 0; pos < records.length && i < offsets.length; ) {
        const batch = new RecordBatch(records, pos);
        pos += batch.sizeInBytes;
        while (i < offsets.length && offsets[i]! < batch.baseOffset) i++;
        if (i >= offsets.length || offsets[i]! >= batch.nextOffset) continue;
        for (const record of decodeRecords(batch.bytes)) {
          if (offsets[i] !== record.offset) continue;
          entries.push({ offset: record.offset, dueAt: record.timestamp, value: record.value, headers: record.headers });
          i++;
        }
      }
      if (i === before) i++;
    }
    return entries;
  }

  private reclaim(): void {
    const now = this.clock.now();
    if (this.appending.size > 0 || now - this.lastReclaim < RECLAIM_INTERVAL_MS) return;
    this.lastReclaim = now;
    const floor = Math.min(this.heap.minOffset(), this.log.highWatermark);
    if (floor <= this.floor) return;
    this.floor = floor;
    this.cancelled.deleteBelow(floor);
    this.changed();
    void this.log.deleteBefore(floor).catch((err: unknown) => this.logger.warn({ err, scheduler: this.id }, 'reclaiming fired entries failed'));
  }

  private changed(): void {
    this.store.markDirty(this.id, () => ({ floor: this.floor, done: this.cancelled.toArray(), delivered: 0, attempts: [], firedThrough: this.firedThrough }));
  }
}
