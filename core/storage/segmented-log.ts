import { pack, unpack } from 'msgpackr';
import type { Clock, Timer } from '../clock.ts';
import { BrokerError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { BatchField, batchSizeAt, readInt64, setBaseOffset, setLogAppendTime, setPartitionLeaderEpoch } from '../record/index.ts';
import type { ReplicaLog, Replicator } from '../replication/replicator.ts';
import { LeaderEpochCache } from './leader-epoch-cache.ts';
import { compactLog, cleanableRange, defaultCompactionLimits, type CompactableLog, type CompactionStats } from './log-compactor.ts';
import { compactionConfigOf, isCompacted, isDeletedByRetention, type LogConfig } from './log-config.ts';
import { cleanedFileName, deletedFileName, isCleanedFileName, isDeletedFileName, parseSegmentFileName, parseSegmentFilesName, parseSwapFileName, segmentFileName, swapFileName } from './log-names.ts';
import { LogSegment } from './log-segment.ts';
import type { AbortedTransaction } from './partition-transactions.ts';
import type { AppendOptions, AppendResult, CompactionState, LogId, OffsetAndTimestamp, PartitionLog, ReadResult } from './partition-log.ts';
import type { ProducerStateTable, ProducerStateView } from './producer-state.ts';
import { ProducerStateManager } from './producer-state-manager.ts';
import type { SegmentFile, SegmentStore } from './segment-store.ts';

const CHECKPOINT_FILE = 'checkpoint';
const EPOCH_FILE = 'leader-epoch-checkpoint';
const MAX_RELATIVE_OFFSET = 2 ** 31 - 1;

interface Checkpoint {
  /** Segments wholly below this offset were synced and their indexes persisted. */
  recoveryPoint: number;
  logStartOffset: number;
  /** Written by a clean close; cleared as soon as the log is opened again. */
  clean: boolean;
  /** Offsets below this were compacted (Kafka's cleaner checkpoint). */
  cleanedTo?: number;
}

interface SyncWaiter {
  endOffset: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface SegmentedLogOptions {
  id: LogId;
  dir: string;
  store: SegmentStore;
  config: LogConfig;
  replicator: Replicator;
  clock: Clock;
  logger: Logger;
  /** Called when a write finds the disk full (STORAGE_FULL), so the broker turns read-only at once. */
  onFull?: () => void;
  /** Told how long each group-commit sync took, in seconds (the fsync latency histogram). */
  onSync?: (seconds: number) => void;
  /** Cleaning passes decode and filter records on the cleaner thread (default) rather than the event loop. */
  cleanerThread?: boolean;
  /** How long the files of segments a cleaning pass replaced stay aside before deletion (file.delete.delay.ms, 60 s). */
  fileDeleteDelayMs?: number;
  /** log.cleaner.io.max.bytes.per.second; 0 or absent for no limit. */
  cleanerIoMaxBytesPerSecond?: number;
}

/** A partition log as a list of segments over a SegmentStore, with group commit and Kafka-style recovery. */
export class SegmentedLog implements PartitionLog, ReplicaLog, CompactableLog {
  readonly topic: string;
  readonly partition: number;
  config: LogConfig;
  logStartOffset = 0;
  highWatermark = 0;
  private segments: LogSegment[] = [];
  private durableEndOffset = 0;
  private readonly dirty = new Set<SegmentFile>();
  /** Segments a cleaning pass replaced, waiting for file.delete.delay.ms before their files go. */
  private readonly retired = new Set<{ names: string[]; timer: Timer }>();
  private retiredCount = 0;
  private syncing = false;
  private syncScheduled = false;
  private syncWaiters: SyncWaiter[] = [];
  private failure: BrokerError | undefined;
  private flushTimer: Timer | undefined;
  private readonly listeners = new Set<(highWatermark: number) => void>();
  private readonly changeListeners = new Set<() => void>();
  private readonly background = new Set<Promise<void>>();
  private closed = false;
  /** Set once close() begins: no more segment deletions or rolls start, so none races the log's removal. */
  private closing: Promise<void> | undefined;
  private checkpointWrites: Promise<void> = Promise.resolve();
  private epochs = new LeaderEpochCache();
  /** Stamped into every batch this log appends as the leader (Kafka's partitionLeaderEpoch). */
  private stampEpoch = 0;
  private epochWrites: Promise<void> = Promise.resolve();
  private readonly producers: ProducerStateManager;
  cleanedTo = 0;
  tombstonesExpireAt = Number.POSITIVE_INFINITY;
  private compacting: Promise<CompactionStats | undefined> | undefined;

  private constructor(private readonly options: SegmentedLogOptions) {
    this.topic = options.id.topic;
    this.partition = options.id.partition;
    this.config = options.config;
    this.producers = new ProducerStateManager(options.store, options.dir, (work) => this.track(work));
  }

  static async open(options: SegmentedLogOptions): Promise<SegmentedLog> {
    const log = new SegmentedLog(options);
    await log.load();
    return log;
  }

  get logEndOffset(): number {
    return this.active.nextOffset;
  }

  get size(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.size;
    return total;
  }

  /** Every offset below this is durable under the store (synced). */
  get durableEnd(): number {
    return this.durableEndOffset;
  }

  get leaderEpochs(): LeaderEpochCache {
    return this.epochs;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  get segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  get producerState(): ProducerStateView {
    return this.producers.table;
  }

  get lastStableOffset(): number {
    return this.producers.table.transactions.lastStableOffset(this.highWatermark);
  }

  abortedTransactions(from: number, to: number): AbortedTransaction[] {
    return this.producers.table.transactions.abortedIn(from, to);
  }

  forgetAbortedTransactions(transactions: readonly AbortedTransaction[]): void {
    this.producers.table.transactions.forget(transactions);
  }

  get producerTable(): ProducerStateTable {
    return this.producers.table;
  }

  get segmentList(): readonly LogSegment[] {
    return this.segments;
  }

  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  /** A compacted log has gaps between offsets (a batch that does not continue the previous one is not damage there). */
  private get offsetGapsAllowed(): boolean {
    return isCompacted(this.config) || this.cleanedTo > 0;
  }

  append(batches: Buffer, options?: AppendOptions): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new BrokerError('LOG_CLOSED', `${this.topic}-${this.partition} is closed`));
    if (this.failure) return Promise.reject(this.failure);
    const acks = options?.acks ?? 'all';
    const refused = this.options.replicator.checkAppend(this, acks);
    if (refused) return Promise.reject(refused);
    const baseOffset = this.logEndOffset;
    let nextOffset = baseOffset;
    let maxTimestamp = -1;
    const logAppendTime = options?.logAppendTime ?? -1;
    let withProducers = false;
    for (let pos = 0; pos < batches.length; ) {
      const size = batchSizeAt(batches, pos);
      if (size < 0) return Promise.reject(new BrokerError('CORRUPT_RECORD', 'append of a truncated batch'));
      const lastOffsetDelta = batches.readInt32BE(pos + BatchField.lastOffsetDelta);
      if (lastOffsetDelta < 0) return Promise.reject(new BrokerError('CORRUPT_RECORD', 'negative lastOffsetDelta'));
      if (logAppendTime >= 0) setLogAppendTime(batches, pos, logAppendTime);
      setBaseOffset(batches, pos, nextOffset);
      setPartitionLeaderEpoch(batches, pos, this.stampEpoch);
      nextOffset += lastOffsetDelta + 1;
      maxTimestamp = Math.max(maxTimestamp, readInt64(batches, pos + BatchField.maxTimestamp));
      if (batches.readInt32BE(pos + BatchField.producerId) >= 0) withProducers = true;
      pos += size;
    }
    if (nextOffset === baseOffset) return Promise.reject(new BrokerError('INVALID_RECORD', 'append of no batches'));
    try {
      const now = this.options.clock.now();
      if (this.needsRoll(batches.length, nextOffset - 1, now)) this.rollActive();
      this.active.append(batches, baseOffset, nextOffset - 1, maxTimestamp, now);
    } catch (err) {
      if (BrokerError.is(err, 'STORAGE_FULL')) {
        this.options.onFull?.();
        return Promise.reject(new BrokerError('STORAGE_FULL', `append to ${this.topic}-${this.partition} failed: the disk is full`, { cause: err }));
      }
      return Promise.reject(new BrokerError('STORAGE_IO', `append to ${this.topic}-${this.partition} failed`, { cause: err }));
    }
    this.producers.appended(batches, withProducers, nextOffset, this.active.baseOffset);
    this.dirty.add(this.active.file);
    this.changed();
    this.scheduleIntervalFlush();
    const result: AppendResult = { baseOffset, lastOffset: nextOffset - 1, logAppendTime };
    return this.options.replicator.commit(this, nextOffset, acks).then(() => result);
  }

  /**
   * Appends batches a follower fetched from its leader, exactly as the leader stored them (offsets and
   * leader epochs included). They must continue this log. Resolves once durable under the flush policy;
   * the high watermark follows the leader's, not this append.
   */
  async appendReplicated(batches: Buffer): Promise<void> {
    if (this.closed) throw new BrokerError('LOG_CLOSED', `${this.topic}-${this.partition} is closed`);
    if (this.failure) throw this.failure;
    const baseOffset = this.logEndOffset;
    let nextOffset = baseOffset;
    let firstOffset = baseOffset;
    let maxTimestamp = -1;
    let withProducers = false;
    for (let pos = 0; pos < batches.length; ) {
      const size = batchSizeAt(batches, pos);
      if (size < 0) throw new BrokerError('CORRUPT_RECORD', 'replicated a truncated batch');
      const first = readInt64(batches, pos + BatchField.baseOffset);
      const lastOffsetDelta = batches.readInt32BE(pos + BatchField.lastOffsetDelta);
      if (first < nextOffset || (first > nextOffset && !this.offsetGapsAllowed) || lastOffsetDelta < 0) {
        throw new BrokerError('CORRUPT_RECORD', `replicated batch at offset ${first} does not continue ${this.topic}-${this.partition} at ${nextOffset}`);
      }
      const epoch = batches.readInt32BE(pos + BatchField.partitionLeaderEpoch);
      if (epoch > this.epochs.latestEpoch) await this.recordEpoch(epoch, first);
      if (pos === 0) firstOffset = first;
      nextOffset = first + lastOffsetDelta + 1;
      maxTimestamp = Math.max(maxTimestamp, readInt64(batches, pos + BatchField.maxTimestamp));
      if (batches.readInt32BE(pos + BatchField.producerId) >= 0) withProducers = true;
      pos += size;
    }
    if (nextOffset === baseOffset) return;
    if (this.logEndOffset !== baseOffset) throw new BrokerError('CORRUPT_RECORD', `${this.topic}-${this.partition} moved during a replicated append`);
    const now = this.options.clock.now();
    try {
      if (this.needsRoll(batches.length, nextOffset - 1, now)) this.rollActive();
      this.active.append(batches, firstOffset, nextOffset - 1, maxTimestamp, now);
    } catch (err) {
      throw new BrokerError('STORAGE_IO', `append to ${this.topic}-${this.partition} failed`, { cause: err });
    }
    this.producers.appended(batches, withProducers, nextOffset, this.active.baseOffset);
    this.dirty.add(this.active.file);
    this.changed();
    this.scheduleIntervalFlush();
    if (this.config.flush.kind === 'always') await this.syncTo(nextOffset);
  }

  /** Starts leading under `epoch`: it begins at the log end, and every batch appended from now on carries it. */
  async becomeLeader(epoch: number): Promise<void> {
    this.stampEpoch = epoch;
    await this.recordEpoch(epoch, this.logEndOffset);
  }

  /** Empties the log and makes it start at `offset` (a follower whose leader deleted what it still lacked). */
  async resetTo(offset: number): Promise<void> {
    const removed = this.segments.splice(0);
    this.segments.push(this.createSegment(offset));
    this.logStartOffset = offset;
    this.highWatermark = this.durableEndOffset = offset;
    this.changed();
    await Promise.all(removed.map((s) => this.deleteSegment(s)));
    await this.producers.truncatedFully();
    if (this.epochs.truncateFromEnd(0)) await this.writeEpochs();
    await this.writeCheckpoint(offset, false);
  }

  private async recordEpoch(epoch: number, startOffset: number): Promise<void> {
    if (this.epochs.assign(epoch, startOffset)) await this.writeEpochs();
  }

  private writeEpochs(): Promise<void> {
    const bytes = this.epochs.encode();
    const write = this.epochWrites.then(() => this.options.store.replaceFile(this.options.dir, EPOCH_FILE, bytes));
    this.epochWrites = write.catch(() => undefined);
    return write;
  }

  async read(offset: number, maxBytes: number, maxOffset = this.highWatermark): Promise<ReadResult> {
    if (this.closed) throw new BrokerError('LOG_CLOSED', `${this.topic}-${this.partition} is closed`);
    if (offset < this.logStartOffset || offset > this.logEndOffset) {
      throw new BrokerError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${offset} is outside [${this.logStartOffset}, ${this.logEndOffset}] of ${this.topic}-${this.partition}`,
      );
    }
    const limit = Math.min(maxOffset, this.logEndOffset);
    let records: Buffer = EMPTY;
    for (let i = this.segmentIndexFor(offset); i < this.segments.length && offset < limit; i++) {
      records = this.segments[i]!.read(offset, maxBytes, limit);
      if (records.length > 0) break;
    }
    return { records, highWatermark: this.highWatermark, logStartOffset: this.logStartOffset };
  }

  async offsetForTime(timestamp: number): Promise<OffsetAndTimestamp | undefined> {
    for (const segment of this.segments) {
      if (segment.maxTimestamp < timestamp) continue;
      const found = segment.findOffsetByTime(timestamp, this.logStartOffset, this.highWatermark);
      if (found) return found;
    }
    return undefined;
  }

  async offsetOfMaxTimestamp(): Promise<OffsetAndTimestamp | undefined> {
    let latest: LogSegment | undefined;
    for (const segment of this.segments) if (segment.maxTimestamp >= 0 && (latest === undefined || segment.maxTimestamp > latest.maxTimestamp)) latest = segment;
    return latest?.findOffsetByTime(latest.maxTimestamp, this.logStartOffset, this.highWatermark);
  }

  async truncateTo(offset: number): Promise<void> {
    if (offset >= this.logEndOffset) return;
    const first = this.segments[0]!;
    if (offset <= first.baseOffset) {
      const removed = this.segments.splice(0);
      this.segments.push(this.createSegment(offset));
      this.logStartOffset = offset;
      await Promise.all(removed.map((s) => this.deleteSegment(s)));
      await this.producers.truncatedFully();
    } else {
      const keep = this.segmentIndexFor(offset) + 1;
      const removed = this.segments.splice(keep);
      this.active.truncateTo(offset);
      await Promise.all(removed.map((s) => this.deleteSegment(s)));
      await this.producers.truncated(this.segments);
    }
    this.highWatermark = Math.min(this.highWatermark, this.logEndOffset);
    this.durableEndOffset = Math.min(this.durableEndOffset, this.logEndOffset);
    this.changed();
    if (this.epochs.truncateFromEnd(this.logEndOffset)) await this.writeEpochs();
    await this.writeCheckpoint(Math.min(this.segments[this.segments.length - 1]!.baseOffset, this.logEndOffset), false);
  }

  async deleteBefore(offset: number, options: { durable?: boolean } = {}): Promise<void> {
    if (this.closing) return;
    const target = Math.min(offset, this.highWatermark);
    if (target <= this.logStartOffset) return;
    this.logStartOffset = target;
    this.changed();
    await this.oneDeletionAtATime(async () => {
      // As in Kafka, the active segment stays (it is not rolled to be deleted): a queue whose consumers
      // keep up would otherwise roll, delete and checkpoint a tiny segment every few acknowledgements.
      const deleted = await this.deleteLeadingSegments((_segment, next) => next !== undefined && next.baseOffset <= target);
      if (deleted > 0) await this.writeCheckpoint(this.recoveryPointNow(), false);
      else if (options.durable) {
        // The recovery point may only name segments already synced: let a roll's background sync finish first.
        await this.settleBackground();
        await this.writeCheckpoint(this.recoveryPointNow(), false);
      }
    });
  }

  applyRetention(now: number): Promise<number> {
    if (this.closing) return Promise.resolve(0);
    this.producers.table.removeExpired(now);
    return this.oneDeletionAtATime(() => this.retain(now));
  }

  /** Segment deletions (and their checkpoints) never overlap: callers fire them without waiting. */
  private oneDeletionAtATime<T>(work: () => Promise<T>): Promise<T> {
    const run = this.deletion.then(work, work);
    this.deletion = run.catch(() => undefined);
    return run;
  }

  private async retain(now: number): Promise<number> {
    let deleted = 0;
    if (!isDeletedByRetention(this.config)) return 0;
    const { retentionMs, retentionBytes } = this.config;
    if (retentionMs >= 0) {
      deleted += await this.deleteLeadingSegments((segment) => segment.largestTimestamp < now - retentionMs);
    }
    if (retentionBytes >= 0) {
      let excess = this.size - retentionBytes;
      deleted += await this.deleteLeadingSegments((segment, next) => {
        if (next === undefined || excess < segment.size) return false;
        excess -= segment.size;
        return true;
      });
    }
    if (deleted > 0) {
      this.logStartOffset = Math.max(this.logStartOffset, this.segments[0]!.baseOffset);
      this.changed();
      await this.writeCheckpoint(this.recoveryPointNow(), false);
    }
    return deleted;
  }

  async roll(): Promise<void> {
    if (this.closing) return;
    if (this.active.size > 0) this.rollActive();
    await this.settleBackground();
  }

  updateConfig(config: LogConfig): void {
    this.config = config;
  }

  watch(listener: (highWatermark: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }

  flush(): Promise<void> {
    return this.syncTo(this.logEndOffset);
  }

  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.flushTimer?.cancel();
    await this.compacting?.catch(() => undefined);
    for (const deletion of this.retired) {
      deletion.timer.cancel();
      await this.deleteFiles(deletion.names);
    }
    this.retired.clear();
    await this.flush();
    await this.deletion;
    await this.settleBackground();
    this.closed = true;
    await this.active.persistIndexes(this.options.store, this.options.dir);
    await this.producers.takeSnapshot(this.logEndOffset, this.active.baseOffset);
    await this.writeCheckpoint(this.logEndOffset, true);
    await Promise.all(this.segments.map((s) => s.file.close()));
    this.listeners.clear();
    this.changeListeners.clear();
  }

  syncTo(endOffset: number): Promise<void> {
    if (this.durableEndOffset >= endOffset) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.syncWaiters.push({ endOffset, resolve, reject });
      this.scheduleSync();
    });
  }

  advanceHighWatermark(offset: number): void {
    if (offset <= this.highWatermark) return;
    this.highWatermark = offset;
    for (const listener of this.listeners) listener(offset);
    this.changed();
  }

  /**
   * Group commit: one sync covers every append made before it started; appends made during it wait
   * for the next. A sync starts on the next turn of the event loop, so appends arriving in the same
   * turn (one socket read, or the appenders woken by the previous sync) share it.
   */
  private scheduleSync(): void {
    if (this.syncScheduled || this.syncing) return;
    this.syncScheduled = true;
    setImmediate(() => {
      this.syncScheduled = false;
      this.startSync();
    });
  }

  private startSync(): void {
    if (this.syncing || this.syncWaiters.length === 0) return;
    this.syncing = true;
    const target = this.logEndOffset;
    const files = [...this.dirty];
    this.dirty.clear();
    const started = performance.now();
    Promise.all(files.map((f) => f.sync())).then(
      () => {
        this.syncing = false;
        if (files.length > 0) this.options.onSync?.((performance.now() - started) / 1000);
        this.durableEndOffset = Math.max(this.durableEndOffset, target);
        const waiting = this.syncWaiters;
        this.syncWaiters = [];
        for (const waiter of waiting) {
          if (waiter.endOffset <= target) waiter.resolve();
          else this.syncWaiters.push(waiter);
        }
        if (this.syncWaiters.length > 0) this.scheduleSync();
      },
      (err: unknown) => {
        this.syncing = false;
        this.failure = new BrokerError('STORAGE_IO', `sync of ${this.topic}-${this.partition} failed; the log is offline`, { cause: err });
        this.options.logger.error({ err, topic: this.topic, partition: this.partition }, 'log sync failed');
        const waiting = this.syncWaiters;
        this.syncWaiters = [];
        for (const waiter of waiting) waiter.reject(this.failure);
      },
    );
  }

  private scheduleIntervalFlush(): void {
    const { flush } = this.config;
    if (flush.kind !== 'interval' || this.flushTimer !== undefined) return;
    this.flushTimer = this.options.clock.setTimeout(() => {
      this.flushTimer = undefined;
      if (!this.closed) this.flush().catch(() => undefined);
    }, flush.ms);
  }

  private needsRoll(bytes: number, lastOffset: number, now: number): boolean {
    const segment = this.active;
    if (segment.size === 0) return false;
    return (
      segment.size + bytes > this.config.segmentBytes ||
      now - segment.createdAt >= this.config.segmentMs ||
      lastOffset - segment.baseOffset > MAX_RELATIVE_OFFSET
    );
  }

  /** Starts a new active segment now; syncs and indexes the old one in the background, then moves the recovery point. */
  private rollActive(): void {
    const old = this.active;
    const next = this.createSegment(old.nextOffset);
    this.segments.push(next);
    this.producers.rolled(next.baseOffset, old.baseOffset);
    this.changed();
    this.track(
      (async () => {
        await old.file.sync();
        await old.persistIndexes(this.options.store, this.options.dir);
        await this.writeCheckpoint(this.recoveryPointNow(), false);
      })(),
    );
  }

  /** Where this log stands for the cleaner: undefined unless it is compacted and has a dirty part to clean. */
  compactionState(now: number): CompactionState | undefined {
    if (!isCompacted(this.config) || this.closing) return undefined;
    const range = cleanableRange(this, now);
    if (range === undefined) return undefined;
    const due = range.overdue || range.dirtyRatio >= compactionConfigOf(this.config).minCleanableDirtyRatio;
    return { dirtyRatio: range.dirtyRatio, dirtyBytes: range.dirtyBytes, due };
  }

  /** One cleaning pass now, whatever the dirty ratio (one at a time); undefined if there is nothing to clean. */
  compact(now = this.options.clock.now()): Promise<CompactionStats | undefined> {
    if (!isCompacted(this.config) || this.closing) return Promise.resolve(undefined);
    const previous = this.compacting ?? Promise.resolve(undefined);
    const run = previous.catch(() => undefined).then(() => (this.closing ? undefined : compactLog(this, now, { ...defaultCompactionLimits, cleanerThread: this.options.cleanerThread ?? true, ioMaxBytesPerSecond: this.options.cleanerIoMaxBytesPerSecond ?? 0 })));
    this.compacting = run;
    void run.catch(() => undefined).finally(() => {
      if (this.compacting === run) this.compacting = undefined;
    });
    return run;
  }

  createCleanedSegment(baseOffset: number): LogSegment {
    const file = this.options.store.createFile(this.options.dir, cleanedFileName(baseOffset));
    return new LogSegment(baseOffset, file, this.options.clock.now(), this.config.indexIntervalBytes);
  }

  async discardCleaned(cleaned: LogSegment): Promise<void> {
    await cleaned.file.close();
    await this.options.store.deleteFile(this.options.dir, cleanedFileName(cleaned.baseOffset));
  }

  /**
   * Kafka's replaceSegments: the cleaned file is synced, renamed to a swap file naming the range it
   * replaces (from then on the replacement is decided: opening the log completes it), swapped in for
   * `group` in memory, the old segments deleted, its indexes written, and the swap file renamed to the
   * segment name.
   */
  replaceSegments(group: readonly LogSegment[], cleaned: LogSegment): Promise<boolean> {
    return this.oneDeletionAtATime(async () => {
      const at = this.segments.indexOf(group[0]!);
      const unchanged = at >= 0 && at + group.length < this.segments.length && group.every((s, i) => this.segments[at + i] === s);
      if (this.closing || !unchanged) {
        await this.discardCleaned(cleaned);
        return false;
      }
      const { store, dir } = this.options;
      const base = cleaned.baseOffset;
      const swap = swapFileName(base, group[group.length - 1]!.baseOffset + 1);
      await cleaned.file.sync();
      await store.renameFile(dir, cleanedFileName(base), swap);
      this.segments.splice(at, group.length, cleaned);
      this.changed();
      for (const segment of group) await this.retireSegment(segment);
      // The indexes go in before the last rename, whose directory sync makes theirs durable too: each
      // directory sync is a journal commit that producers' group-commit syncs on this disk wait behind.
      await cleaned.persistIndexes(store, dir, { syncDirectory: false });
      await store.renameFile(dir, swap, segmentFileName(base, '.log'));
      return true;
    });
  }

  async markCleanedTo(offset: number, tombstonesExpireAt: number): Promise<void> {
    this.cleanedTo = Math.max(this.cleanedTo, offset);
    this.tombstonesExpireAt = tombstonesExpireAt;
    await this.writeCheckpoint(this.recoveryPointNow(), false);
  }

  private recoveryPointNow(): number {
    return this.active.baseOffset;
  }

  private createSegment(baseOffset: number): LogSegment {
    const file = this.options.store.createFile(this.options.dir, segmentFileName(baseOffset, '.log'));
    return new LogSegment(baseOffset, file, this.options.clock.now(), this.config.indexIntervalBytes);
  }

  /** Deletes segments from the front while `eligible` says so; rolls first if the active segment is eligible. */
  private deletion: Promise<unknown> = Promise.resolve();

  private async deleteLeadingSegments(eligible: (segment: LogSegment, next: LogSegment | undefined) => boolean): Promise<number> {
    let count = 0;
    while (this.segments.length > 0) {
      const segment = this.segments[0]!;
      const next = this.segments[1];
      if ((segment.size === 0 && next === undefined) || !eligible(segment, next)) break;
      if (next === undefined) this.rollActive();
      this.segments.shift();
      this.changed();
      count++;
      await this.deleteSegment(segment);
    }
    if (count > 0) {
      this.producers.table.transactions.dropBefore(this.segments[0]!.baseOffset);
      await this.producers.deleteSnapshotsBefore(this.segments[0]!.baseOffset);
    }
    return count;
  }

  /**
   * Kafka's asyncDeleteSegment, for the segments a cleaning pass replaced: their files are renamed aside
   * now and deleted file.delete.delay.ms later, so that unlinking them (freeing a whole segment's blocks)
   * does not happen inside the swap, in front of every producer's sync on the same disk, and a reader
   * still holding one finishes first.
   */
  private async retireSegment(segment: LogSegment): Promise<void> {
    await this.closeSegment(segment);
    const { store, dir, clock } = this.options;
    const names: string[] = [];
    const sequence = this.retiredCount++;
    // Indexes first: a crash that kept only some of these renames must never leave a segment's old index
    // beside the cleaned .log (opening the log also drops every index file in a swap's range).
    for (const suffix of ['.index', '.timeindex', '.log'] as const) {
      const name = segmentFileName(segment.baseOffset, suffix);
      const aside = deletedFileName(name, sequence);
      // Durable with the swap's last rename, which syncs the directory; a crash before it deletes them on open.
      const renamed = await store.renameFile(dir, name, aside, { syncDirectory: false }).then(
        () => true,
        (err: unknown) => {
          if (BrokerError.is(err, 'NOT_FOUND')) return false;
          throw err;
        },
      );
      if (renamed) names.push(aside);
    }
    const deletion = {
      names,
      timer: clock.setTimeout(() => {
        this.retired.delete(deletion);
        void this.deleteFiles(names);
      }, this.options.fileDeleteDelayMs ?? DEFAULT_FILE_DELETE_DELAY_MS),
    };
    this.retired.add(deletion);
  }

  /** A segment leaving the log: no sync waits for it any more, and its file is closed once background work settles. */
  private async closeSegment(segment: LogSegment): Promise<void> {
    this.dirty.delete(segment.file);
    await this.settleBackground();
    await segment.file.close();
  }

  private async deleteFiles(names: readonly string[]): Promise<void> {
    for (const name of names) {
      await this.options.store.deleteFile(this.options.dir, name).catch((err: unknown) => {
        this.options.logger.warn({ err, topic: this.topic, partition: this.partition, name }, 'could not delete a replaced segment file');
      });
    }
  }

  private async deleteSegment(segment: LogSegment): Promise<void> {
    await this.closeSegment(segment);
    const { store, dir } = this.options;
    for (const suffix of ['.log', '.index', '.timeindex'] as const) await store.deleteFile(dir, segmentFileName(segment.baseOffset, suffix));
  }

  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /**
   * Finishes what a crash interrupted in a compaction: a cleaned segment not yet decided is dropped; a
   * decided one (a swap file) replaces the segments in its range.
   */
  private async completeCompaction(): Promise<void> {
    const { store, dir, logger } = this.options;
    const files = await store.listFiles(dir);
    for (const name of files) {
      if (isCleanedFileName(name) || isDeletedFileName(name)) await store.deleteFile(dir, name);
      const swap = parseSwapFileName(name);
      if (swap === undefined) continue;
      // Every segment file in its range goes, indexes too even without their .log: the cleaned segment's
      // indexes are rebuilt from it (a crash may have left the replaced segment's under the same name).
      for (const other of files) {
        const base = parseSegmentFilesName(other);
        if (base === undefined || base < swap.baseOffset || base >= swap.endOffset) continue;
        await store.deleteFile(dir, other);
      }
      await store.renameFile(dir, name, segmentFileName(swap.baseOffset, '.log'));
      logger.warn({ topic: this.topic, partition: this.partition, base: swap.baseOffset }, 'completed a compaction a crash interrupted');
    }
  }

  private async load(): Promise<void> {
    const { store, dir, logger } = this.options;
    await this.completeCompaction();
    const checkpoint = await this.readCheckpoint();
    this.cleanedTo = checkpoint?.cleanedTo ?? 0;
    const bases = (await store.listFiles(dir))
      .map(parseSegmentFileName)
      .filter((b): b is number => b !== undefined)
      .sort((a, b) => a - b);
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i]!;
      const segment = new LogSegment(base, await store.openFile(dir, segmentFileName(base, '.log')), this.options.clock.now(), this.config.indexIntervalBytes);
      const nextBase = bases[i + 1] ?? Number.POSITIVE_INFINITY;
      const previous = this.segments[this.segments.length - 1];
      if (previous !== undefined && previous.nextOffset > base) {
        logger.warn({ topic: this.topic, partition: this.partition, base }, 'segment overlaps its predecessor; deleting it and what follows');
        await this.deleteSegment(segment);
        for (const rest of bases.slice(i + 1)) {
          await this.deleteSegment(new LogSegment(rest, await store.openFile(dir, segmentFileName(rest, '.log')), 0, 1));
        }
        break;
      }
      // The last segment is always recovered, even after a clean shutdown: bytes damaged while the broker was
      // stopped must be cut before new appends land after them (a later crash recovery would cut those too).
      const last = i === bases.length - 1;
      if (!last && (checkpoint?.clean || nextBase <= (checkpoint?.recoveryPoint ?? 0))) {
        await segment.load(store, dir, this.offsetGapsAllowed);
        this.segments.push(segment);
        continue;
      }
      const { truncatedBytes } = segment.recover(this.offsetGapsAllowed);
      this.segments.push(segment);
      if (truncatedBytes > 0) {
        logger.warn({ topic: this.topic, partition: this.partition, base, truncatedBytes }, 'recovery truncated an invalid tail');
        for (const rest of bases.slice(i + 1)) {
          await this.deleteSegment(new LogSegment(rest, await store.openFile(dir, segmentFileName(rest, '.log')), 0, 1));
        }
        break;
      }
    }
    if (this.segments.length === 0) this.segments.push(this.createSegment(checkpoint?.logStartOffset ?? 0));
    this.logStartOffset = Math.max(checkpoint?.logStartOffset ?? 0, this.segments[0]!.baseOffset);
    this.highWatermark = this.durableEndOffset = this.logEndOffset;
    this.epochs = LeaderEpochCache.decode(await store.readFile(dir, EPOCH_FILE));
    if (this.epochs.truncateFromEnd(this.logEndOffset + 1)) await this.writeEpochs();
    this.stampEpoch = Math.max(0, this.epochs.latestEpoch);
    await this.producers.load(this.segments, this.options.clock.now());
    const recoveryPoint = checkpoint?.clean ? this.logEndOffset : Math.min(checkpoint?.recoveryPoint ?? 0, this.active.baseOffset);
    if (checkpoint?.clean === false && checkpoint.recoveryPoint === recoveryPoint && checkpoint.logStartOffset === this.logStartOffset) return;
    await this.writeCheckpoint(recoveryPoint, false).catch((err: unknown) => {
      // On a full disk the log still opens, for reads: a stale clean mark is harmless since the last segment is
      // recovered on every start, and the next roll, deletion or close writes the checkpoint again.
      if (!BrokerError.is(err, 'STORAGE_FULL')) throw err;
      logger.warn({ topic: this.topic, partition: this.partition }, 'the disk is full: the checkpoint was not updated on open');
    });
  }

  private async readCheckpoint(): Promise<Checkpoint | undefined> {
    const bytes = await this.options.store.readFile(this.options.dir, CHECKPOINT_FILE);
    if (bytes === undefined) return undefined;
    try {
      const value = unpack(bytes) as Partial<Checkpoint>;
      if (typeof value.recoveryPoint === 'number' && typeof value.logStartOffset === 'number') {
        const cleanedTo = typeof value.cleanedTo === 'number' ? value.cleanedTo : 0;
        return { recoveryPoint: value.recoveryPoint, logStartOffset: value.logStartOffset, clean: value.clean === true, cleanedTo };
      }
    } catch {
      // an unreadable checkpoint means: recover everything
    }
    return undefined;
  }

  /** Checkpoint writes are chained so a later one never lands before an earlier one. */
  private writeCheckpoint(recoveryPoint: number, clean: boolean): Promise<void> {
    const checkpoint: Checkpoint = { recoveryPoint, logStartOffset: this.logStartOffset, clean, cleanedTo: this.cleanedTo };
    const write = this.checkpointWrites.then(() => this.options.store.replaceFile(this.options.dir, CHECKPOINT_FILE, pack(checkpoint)));
    this.checkpointWrites = write.catch(() => undefined);
    return write;
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((err: unknown) => {
      this.options.logger.error({ err, topic: this.topic, partition: this.partition }, 'background segment work failed');
    });
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }

  private async settleBackground(): Promise<void> {
    while (this.background.size > 0) await Promise.all(this.background);
  }
}

const EMPTY = Buffer.alloc(0);
export const DEFAULT_FILE_DELETE_DELAY_MS = 60_000;
