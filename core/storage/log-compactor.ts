import { setTimeout as sleep } from 'node:timers/promises';
import { BatchField, CONTROL_FLAG, TRANSACTIONAL_FLAG, deleteHorizonOf, emptyBatchOf, filterRecords, readInt64 } from '../record/index.ts';
import { AbortedBatches } from './aborted-batches.ts';
import { TransactionCleaning } from './transaction-cleaning.ts';
import { BatchScanner } from './batch-scanner.ts';
import { Kept, OUTCOME_FIELDS, type FilterOutcome, type MapOutcome } from './cleaning-kernel.ts';
import { inThreadCleaningSession, threadCleaningSession, type CleaningSession } from './cleaning-threads.ts';
import { compactionConfigOf, type LogConfig } from './log-config.ts';
import type { LogSegment } from './log-segment.ts';
import type { AbortedTransaction } from './partition-transactions.ts';
import type { ProducerStateTable } from './producer-state.ts';

/** The part of a log the compactor works on (SegmentedLog). */
export interface CompactableLog {
  readonly config: LogConfig;
  readonly highWatermark: number;
  /** Below the high watermark while a transaction is open or its marker not yet replicated. */
  readonly lastStableOffset: number;
  readonly logStartOffset: number;
  /** Offsets below this were cleaned by an earlier pass (Kafka's cleaner checkpoint). */
  readonly cleanedTo: number;
  /** When the earliest tombstone a pass kept may go (its batch's delete horizon); Infinity if none is known. */
  readonly tombstonesExpireAt: number;
  /** The segments now, oldest first; the last is the active one. */
  readonly segmentList: readonly LogSegment[];
  readonly producerTable: ProducerStateTable;
  readonly isClosing: boolean;
  /** The aborted transactions that overlap [from, to). */
  abortedTransactions(from: number, to: number): readonly AbortedTransaction[];
  /** Drops these from the aborted index: the cleaner removed every record of theirs. */
  forgetAbortedTransactions(transactions: readonly AbortedTransaction[]): void;
  /** A new, empty segment file that will replace segments from `baseOffset` on. */
  createCleanedSegment(baseOffset: number): LogSegment;
  /** Puts `cleaned` in place of `group` unless the log changed meanwhile; false (and `cleaned` deleted) if it did. */
  replaceSegments(group: readonly LogSegment[], cleaned: LogSegment): Promise<boolean>;
  discardCleaned(cleaned: LogSegment): Promise<void>;
  markCleanedTo(offset: number, tombstonesExpireAt: number): Promise<void>;
}

export interface CleanableRange {
  /** The first offset not yet cleaned. */
  firstDirty: number;
  /** Where cleaning must stop: the active segment, the last stable offset or min.compaction.lag.ms, at a segment start. */
  firstUncleanable: number;
  cleanBytes: number;
  dirtyBytes: number;
  /** dirtyBytes / (cleanBytes + dirtyBytes). */
  dirtyRatio: number;
  /** A dirty record is older than max.compaction.lag.ms, or kept tombstones have expired: clean whatever the ratio. */
  overdue: boolean;
}

export interface CompactionLimits {
  /** Keys the offset map holds in one pass (Kafka's dedupe buffer); a pass stops at the segment that fills it. */
  maxKeys: number;
  /** Milliseconds of work between two turns of the event loop. */
  msPerTurn: number;
  /** Record-level work on the process's cleaner thread (true) or between turns of the event loop. */
  cleanerThread: boolean;
  /** Kafka's log.cleaner.io.max.bytes.per.second: bytes a pass reads and writes per second at most; 0 for no limit. */
  ioMaxBytesPerSecond: number;
}

/**
 * Wharf's default log.cleaner.io.max.bytes.per.second. Kafka sets no limit (its cleaner has a core of a
 * many-core broker); at full speed Wharf's cleaner thread takes a whole core, and on a two-core machine the
 * request thread's syncs then wait for CPU. 128 MiB/s of reads and writes keeps it near a third of a core.
 */
export const DEFAULT_CLEANER_IO_MAX_BYTES_PER_SECOND = 128 * 1024 * 1024;

export const defaultCompactionLimits: Readonly<CompactionLimits> = Object.freeze({ maxKeys: 1_000_000, msPerTurn: 2, cleanerThread: true, ioMaxBytesPerSecond: 0 });

export interface CompactionStats {
  /** The pass cleaned every offset below this. */
  cleanedTo: number;
  segmentsBefore: number;
  segmentsAfter: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRemoved: number;
  /** When the earliest tombstone the pass kept may go; Infinity if it kept none. */
  tombstonesExpireAt: number;
  /** False if the log changed under the pass (truncation, deletion, close): what was swapped in stays. */
  completed: boolean;
}

const READ_WINDOW = 1024 * 1024;
const JOBS_IN_FLIGHT = 2;
const SYNC_EVERY_BYTES = 1024 * 1024;

/** The dirty part of a compacted log that a pass may clean now; undefined when there is none. */
export function cleanableRange(log: CompactableLog, now: number): CleanableRange | undefined {
  const segments = log.segmentList;
  const active = segments[segments.length - 1]!;
  const { minCompactionLagMs, maxCompactionLagMs } = compactionConfigOf(log.config);
  const firstDirty = Math.max(log.cleanedTo, log.logStartOffset);
  let firstUncleanable = active.baseOffset;
  let cleanBytes = 0;
  let dirtyBytes = 0;
  let overdue = false;
  for (const segment of segments) {
    if (segment.nextOffset <= firstDirty && segment !== active) {
      cleanBytes += segment.size;
      continue;
    }
    const tooYoung = minCompactionLagMs > 0 && segment.largestTimestamp > now - minCompactionLagMs;
    // Kafka's firstUncleanableDirtyOffset: an open transaction's records may still be aborted.
    if (segment === active || segment.nextOffset > log.lastStableOffset || tooYoung) {
      firstUncleanable = segment.baseOffset;
      break;
    }
    if (dirtyBytes === 0 && segment.largestTimestamp < now - maxCompactionLagMs) overdue = true;
    dirtyBytes += segment.size;
  }
  const tombstonesExpired = log.tombstonesExpireAt <= now && cleanBytes > 0;
  if (dirtyBytes === 0 && !tombstonesExpired) return undefined;
  return { firstDirty, firstUncleanable, cleanBytes, dirtyBytes, dirtyRatio: dirtyBytes / (cleanBytes + dirtyBytes), overdue: overdue || tombstonesExpired };
}

/**
 * One cleaning pass, Kafka's LogCleaner: maps every key in the dirty range to its last offset, then
 * rewrites the segments below the end of that range, group by group, keeping a record only if no later
 * record has its key. A tombstone a pass keeps marks its batch with a delete horizon delete.retention.ms
 * ahead (KIP-534); a pass after that drops it. Records without a key go, and so do aborted transactions'
 * records, which never count as a key's latest; a transaction marker stays while a record of its
 * transaction does and then until its delete horizon, as a tombstone; an idempotent producer's last batch
 * stays (empty if need be). Offsets never change: the log gains gaps. Nothing at or past the last stable
 * offset is cleaned.
 * Decoding, mapping and filtering records run on the process's cleaner thread (cleaning-threads.ts); what
 * stays on the event loop (reading segments, appending the survivors) yields every few milliseconds.
 */
export async function compactLog(log: CompactableLog, now: number, limits: CompactionLimits = defaultCompactionLimits): Promise<CompactionStats | undefined> {
  const range = cleanableRange(log, now);
  if (range === undefined) return undefined;
  const stats: CompactionStats = {
    cleanedTo: log.cleanedTo,
    segmentsBefore: log.segmentList.length,
    segmentsAfter: 0,
    bytesRead: 0,
    bytesWritten: 0,
    recordsRemoved: 0,
    tombstonesExpireAt: Number.POSITIVE_INFINITY,
    completed: false,
  };
  // On the cleaner thread the event loop only reads and appends: it can yield more often for the same pace.
  const pacer = new Pacer(limits.cleanerThread ? Math.min(limits.msPerTurn, 1) : limits.msPerTurn, limits.ioMaxBytesPerSecond);
  const session = limits.cleanerThread ? threadCleaningSession(limits.maxKeys) : inThreadCleaningSession(limits.maxKeys);
  try {
    return await cleanPass(log, range, session, pacer, stats, now);
  } finally {
    session.end();
  }
}

async function cleanPass(log: CompactableLog, range: CleanableRange, session: CleaningSession, pacer: Pacer, stats: CompactionStats, now: number): Promise<CompactionStats> {
  const dirtyEnd = await mapKeys(log, range, session, pacer, stats);
  if (dirtyEnd === undefined) return stats;
  const cleanable = log.segmentList.slice(0, -1).filter((s) => s.nextOffset <= dirtyEnd);
  const transactions = new TransactionCleaning(log.abortedTransactions(cleanable[0]?.baseOffset ?? dirtyEnd, dirtyEnd));
  for (const group of groupBySize(cleanable, log.config.segmentBytes)) {
    const cleaned = log.createCleanedSegment(group[0]!.baseOffset);
    try {
      for (const segment of group) {
        await rewrite(log, segment, cleaned, session, transactions, pacer, stats, now);
        if (log.isClosing) throw ABORTED;
      }
    } catch (err) {
      await log.discardCleaned(cleaned);
      if (err === ABORTED) return stats;
      throw err;
    }
    cleaned.lastModified = Math.max(...group.map((s) => s.lastModified));
    if (!(await log.replaceSegments(group, cleaned))) return stats;
    stats.bytesWritten += cleaned.size;
  }
  await log.markCleanedTo(dirtyEnd, stats.tombstonesExpireAt);
  log.forgetAbortedTransactions(transactions.emptiedBelow(dirtyEnd));
  stats.cleanedTo = dirtyEnd;
  stats.segmentsAfter = log.segmentList.length;
  stats.completed = true;
  return stats;
}

const ABORTED = new Error('compaction aborted: the log is closing');

/** Kafka's buildOffsetMap: returns where the mapped range ends (a segment start), or undefined if the log closed. */
async function mapKeys(log: CompactableLog, range: CleanableRange, session: CleaningSession, pacer: Pacer, stats: CompactionStats): Promise<number | undefined> {
  let end = range.firstDirty;
  let first = true;
  let full = false;
  const aborted = new AbortedBatches(log.abortedTransactions(range.firstDirty, range.firstUncleanable));
  for (const segment of log.segmentList) {
    if (segment.nextOffset <= range.firstDirty) continue;
    if (segment.baseOffset >= range.firstUncleanable || full) break;
    let overflowed = false;
    const job = new Job(session);
    const submitted = new Submitted<MapOutcome, Buffer>();
    const mapJob = (leave: number): Promise<void> => {
      if (!job.isEmpty) {
        const [buffer, bounds] = job.take();
        // The first segment is mapped whole whatever the limit, so every pass makes progress.
        submitted.add(buffer, session.map(buffer, bounds, range.firstDirty, first));
      }
      return submitted.take(leave, (outcome, buffer) => {
        session.release(buffer);
        overflowed ||= outcome.overflowed;
        full = outcome.full;
      });
    };
    try {
      const scanner = new BatchScanner(segment.file, 0, READ_WINDOW, segment.file.size, session.window);
      for (let batch = scanner.next(); batch !== undefined && !overflowed; batch = scanner.next()) {
        if (batch.lastOffset < range.firstDirty) continue;
        const bytes = scanner.bytesOf(batch);
        if (!isControl(bytes) && !isAbortedData(bytes, batch.baseOffset, aborted)) {
          if (job.wouldOverfill(bytes.length)) await mapJob(JOBS_IN_FLIGHT - 1);
          job.add(bytes);
        }
        stats.bytesRead += batch.size;
        if ((await pacer.advance(batch.size)) && log.isClosing) return undefined;
      }
      await mapJob(0);
    } finally {
      await submitted.abandon();
    }
    if (log.isClosing) return undefined;
    if (overflowed) break;
    end = segment.nextOffset;
    first = false;
  }
  return Math.min(end, range.firstUncleanable);
}

/** A batch of the segment being rewritten, waiting for its job's outcome to be appended in log order. */
interface PendingBatch {
  baseOffset: number;
  lastOffset: number;
  /** Its place in the job, or -1 if decided without one (markers, aborted transactions' batches). */
  inJob: number;
  /** What stays of a batch decided without a job. */
  kept: Buffer;
}

/** A filter job out on the session: the batches in it and the others read since the previous job, in log order. */
interface FilterJob {
  items: PendingBatch[];
  buffer: Buffer | undefined;
  bounds: Int32Array;
}

async function rewrite(
  log: CompactableLog,
  segment: LogSegment,
  cleaned: LogSegment,
  session: CleaningSession,
  transactions: TransactionCleaning,
  pacer: Pacer,
  stats: CompactionStats,
  now: number,
): Promise<void> {
  // The window is read into one buffer again and again: batches are copied out of it (into a job, or
  // whole when decided here) before the next read.
  const scanner = new BatchScanner(segment.file, 0, READ_WINDOW, segment.file.size, session.window);
  const newHorizon = now + compactionConfigOf(log.config).deleteRetentionMs;
  // The cleaned segment's own copy, unless its store copies what it appends (the job's memory is reused).
  const owned = (bytes: Buffer): Buffer => (cleaned.file.appendCopies ? bytes : Buffer.from(bytes));
  const job = new Job(session);
  let pending: PendingBatch[] = [];
  const submitted = new Submitted<FilterOutcome, FilterJob>();
  let unsynced = 0;
  const submit = (): void => {
    if (job.isEmpty) {
      submitted.add({ items: pending, buffer: undefined, bounds: NO_BOUNDS }, Promise.resolve(NO_OUTCOME));
    } else {
      const [buffer, bounds] = job.take();
      submitted.add({ items: pending, buffer, bounds }, session.filter(buffer, bounds, now, newHorizon));
    }
    pending = [];
  };
  const append = async ({ outcomes, out }: FilterOutcome, { items, buffer, bounds }: FilterJob): Promise<void> => {
    for (const item of items) {
      let kept = item.kept;
      if (item.inJob >= 0) {
        const whole = buffer!.subarray(bounds[item.inJob * 2]!, bounds[item.inJob * 2 + 1]!);
        const at = item.inJob * OUTCOME_FIELDS;
        const outcome = outcomes[at]!;
        if ((outcome & Kept.tombstoneFlag) !== 0) stats.tombstonesExpireAt = Math.min(stats.tombstonesExpireAt, deleteHorizonOf(whole) ?? newHorizon);
        const what = outcome & Kept.mask;
        if (what === Kept.all) kept = owned(whole);
        else if (what === Kept.some) kept = owned(out.subarray(outcomes[at + 1]!, outcomes[at + 1]! + outcomes[at + 2]!));
        else kept = nothingKept(log, whole, item.lastOffset);
        stats.recordsRemoved += recordsRemoved(whole, kept);
      }
      if (kept.length === 0) continue;
      cleaned.append(kept, item.baseOffset, item.lastOffset, readInt64(kept, BatchField.maxTimestamp), now);
      unsynced += kept.length;
      // Synced as it grows: one sync of a whole cleaned segment at the swap would hold up every
      // producer's group commit behind it on the same disk.
      if (unsynced >= SYNC_EVERY_BYTES) {
        unsynced = 0;
        await cleaned.file.sync();
      }
      await pacer.advance(kept.length);
    }
    if (buffer !== undefined) session.release(buffer);
  };
  try {
    for (let batch = scanner.next(); batch !== undefined; batch = scanner.next()) {
      const bytes = scanner.bytesOf(batch);
      const item: PendingBatch = { baseOffset: batch.baseOffset, lastOffset: batch.lastOffset, inJob: -1, kept: EMPTY };
      if (isControl(bytes)) item.kept = keptMarker(Buffer.from(bytes), batch.baseOffset, transactions, stats, now, newHorizon);
      else if (transactions.isAbortedData(bytes, batch.baseOffset)) {
        item.kept = nothingKept(log, bytes, batch.lastOffset);
        stats.recordsRemoved += recordsRemoved(bytes, item.kept);
      } else {
        if (job.wouldOverfill(bytes.length)) {
          submit();
          await submitted.take(JOBS_IN_FLIGHT - 1, append);
        }
        item.inJob = job.add(bytes);
      }
      pending.push(item);
      stats.bytesRead += batch.size;
      if ((await pacer.advance(batch.size)) && log.isClosing) throw ABORTED;
    }
    submit();
    await submitted.take(0, append);
  } finally {
    await submitted.abandon();
  }
  if (log.isClosing) throw ABORTED;
}

/** A marker stays while a record of its transaction does, then until its delete horizon (KIP-534). */
function keptMarker(bytes: Buffer, baseOffset: number, transactions: TransactionCleaning, stats: CompactionStats, now: number, newHorizon: number): Buffer {
  if (!transactions.endsNoRecord(bytes, baseOffset)) return bytes;
  const markerHorizon = deleteHorizonOf(bytes);
  if (bytes.readInt32BE(BatchField.recordCount) === 0 || (markerHorizon !== undefined && now > markerHorizon)) return EMPTY;
  if (markerHorizon !== undefined) {
    stats.tombstonesExpireAt = Math.min(stats.tombstonesExpireAt, markerHorizon);
    return bytes;
  }
  stats.tombstonesExpireAt = Math.min(stats.tombstonesExpireAt, newHorizon);
  const marked = filterRecords(bytes, KEEP, () => newHorizon);
  return marked.kept === 'some' ? marked.batch : bytes;
}

/** Jobs handed to the cleaning session with what each belongs to, used in the order they went out. */
class Submitted<Answer, Context> {
  private readonly queue: Array<{ context: Context; answer: Promise<Answer> }> = [];

  add(context: Context, answer: Promise<Answer>): void {
    // Observed at once: a job that fails while the pass is between awaits must not be an unhandled
    // rejection; take() still meets its error when it comes to it.
    answer.catch(() => undefined);
    this.queue.push({ context, answer });
  }

  /** Uses the oldest answers until at most `leave` jobs are still out. */
  async take(leave: number, use: (answer: Answer, context: Context) => unknown): Promise<void> {
    while (this.queue.length > leave) {
      const { context, answer } = this.queue.shift()!;
      await use(await answer, context);
    }
  }

  /** Waits out every answer still owed, so that none is left unobserved when a pass stops early. */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.queue.splice(0).map((job) => job.answer));
  }
}

/** Whole batches copied back to back into a job buffer of the session, with their bounds. */
class Job {
  private buffer: Buffer | undefined;
  private used = 0;
  private bounds: number[] = [];

  constructor(private readonly session: CleaningSession) {}

  get isEmpty(): boolean {
    return this.bounds.length === 0;
  }

  wouldOverfill(bytes: number): boolean {
    return !this.isEmpty && this.used + bytes > this.session.jobBytes;
  }

  /** Adds a batch that does not overfill the job; returns its place in the job. */
  add(batch: Buffer): number {
    // At least jobBytes, or the one batch larger than that: wouldOverfill keeps every other add within it.
    this.buffer ??= this.session.jobBuffer(batch.length);
    this.used += batch.copy(this.buffer, this.used);
    this.bounds.push(this.used - batch.length, this.used);
    return this.bounds.length / 2 - 1;
  }

  /** The job's buffer and bounds, leaving the job empty. */
  take(): [Buffer, Int32Array] {
    const taken: [Buffer, Int32Array] = [this.buffer!, Int32Array.from(this.bounds)];
    this.buffer = undefined;
    this.used = 0;
    this.bounds = [];
    return taken;
  }
}

const NO_OUTCOME: FilterOutcome = Object.freeze({ outcomes: new Int32Array(0), out: Buffer.alloc(0) });
const NO_BOUNDS = new Int32Array(0);

function isControl(batch: Buffer): boolean {
  return (batch.readInt16BE(BatchField.attributes) & CONTROL_FLAG) !== 0;
}

function isAbortedData(batch: Buffer, baseOffset: number, aborted: AbortedBatches): boolean {
  return (batch.readInt16BE(BatchField.attributes) & TRANSACTIONAL_FLAG) !== 0 && aborted.transactionAt(readInt64(batch, BatchField.producerId), baseOffset) !== undefined;
}

/** What stays of a batch none of whose records stay: an idempotent producer's last batch stays empty (its sequence). */
function nothingKept(log: CompactableLog, batch: Buffer, lastOffset: number): Buffer {
  return isProducersLastBatch(log, batch, lastOffset) ? emptyBatchOf(batch) : EMPTY;
}

function recordsRemoved(batch: Buffer, kept: Buffer): number {
  return batch.readInt32BE(BatchField.recordCount) - (kept.length === 0 ? 0 : kept.readInt32BE(BatchField.recordCount));
}

function isProducersLastBatch(log: CompactableLog, batch: Buffer, lastOffset: number): boolean {
  const producerId = readInt64(batch, BatchField.producerId);
  return producerId >= 0 && log.producerTable.lastOffsetOf(producerId) === lastOffset;
}

/** Consecutive segments whose sizes together fit one segment (Kafka's groupSegmentsBySize). */
function groupBySize(segments: readonly LogSegment[], maxBytes: number): LogSegment[][] {
  const groups: LogSegment[][] = [];
  let group: LogSegment[] = [];
  let bytes = 0;
  for (const segment of segments) {
    if (group.length > 0 && (bytes + segment.size > maxBytes || segment.nextOffset - group[0]!.baseOffset > 2 ** 31 - 1)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(segment);
    bytes += segment.size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * Keeps the cleaner a guest: after `msPerTurn` of work on the event loop it sleeps for a third of that on a
 * timer, so every phase of the loop (socket reads, completed syncs, timers) runs in between; and, as Kafka's
 * Throttler under log.cleaner.io.max.bytes.per.second, it sleeps whenever the bytes the pass has read and
 * written run ahead of `bytesPerSecond` (0: no limit).
 */
class Pacer {
  private turnStarted = performance.now();
  private readonly passStarted = performance.now();
  private bytes = 0;

  constructor(
    private readonly msPerTurn: number,
    private readonly bytesPerSecond = 0,
  ) {}

  /** After `bytes` more read or written; true if it yielded. */
  async advance(bytes = 0): Promise<boolean> {
    this.bytes += bytes;
    const now = performance.now();
    const ahead = this.bytesPerSecond > 0 ? (this.bytes / this.bytesPerSecond) * 1000 - (now - this.passStarted) : 0;
    const worked = now - this.turnStarted;
    if (worked < this.msPerTurn && ahead < THROTTLE_MIN_SLEEP_MS) return false;
    await sleep(Math.max(1, Math.round(worked / 3), Math.round(ahead)));
    this.turnStarted = performance.now();
    return true;
  }
}

/** Shorter sleeps than this are left for later, so the throttle sleeps seldom and the timer's cost stays small. */
const THROTTLE_MIN_SLEEP_MS = 5;

const EMPTY = Buffer.alloc(0);
const KEEP = (): boolean => true;
