import { BrokerError } from '../errors.ts';
import { BatchField, LOG_OVERHEAD } from '../record/index.ts';
import { BatchScanner } from './batch-scanner.ts';
import { parseSnapshotFileName, snapshotFileName } from './log-names.ts';
import type { LogSegment } from './log-segment.ts';
import { ProducerStateTable } from './producer-state.ts';
import type { SegmentStore } from './segment-store.ts';

/**
 * Appended bytes after which a snapshot is taken even without a roll, so a crash never costs a scan
 * of more than this many bytes of batch headers on top of the roll's snapshot.
 */
const SNAPSHOT_INTERVAL_BYTES = 64 * 1024 * 1024;
/** Headers are read in windows this large: big batches cost one small read each, small ones share a read. */
const SCAN_WINDOW = 64 * 1024;

/**
 * Keeps a log's producer-state table and its snapshots (`<offset>.snapshot` in the log directory), as
 * Kafka's ProducerStateManager: a snapshot at each segment roll (kept until that segment is deleted),
 * the newest one within the active segment, and one at clean close. On open the newest snapshot
 * within the log is loaded and the batch headers after it are replayed.
 */
export class ProducerStateManager {
  table = new ProducerStateTable();
  /** Offsets of the snapshot files present, ascending. */
  private snapshots: number[] = [];
  private bytesSinceSnapshot = 0;
  /** The log end offset of the newest snapshot taken or loaded, while no append has happened since. */
  private snapshotEnd: number | undefined;
  private writes: Promise<void> = Promise.resolve();

  /** `background` runs snapshot writes the caller does not wait for (the log settles them before it closes). */
  constructor(
    private readonly store: SegmentStore,
    private readonly dir: string,
    private readonly background: (work: Promise<void>) => void,
  ) {}

  /**
   * Rebuilds the table for `segments` (recovered, oldest first): from the newest snapshot inside the
   * log, else (a data directory older than snapshots) from the start of the last two segments.
   */
  async load(segments: readonly LogSegment[], now: number): Promise<void> {
    this.snapshots = (await this.store.listFiles(this.dir))
      .map(parseSnapshotFileName)
      .filter((o): o is number => o !== undefined)
      .sort((a, b) => a - b);
    const first = segments[0]!.baseOffset;
    const end = segments[segments.length - 1]!.nextOffset;
    await this.deleteSnapshots((offset) => offset < first || offset > end);
    const snapshot = await this.loadNewestSnapshot(end);
    const table = snapshot?.table ?? new ProducerStateTable();
    table.removeExpired(now);
    const scanned = replay(table, segments, snapshot?.offset ?? segments[Math.max(0, segments.length - 2)]!.baseOffset, end);
    this.table = table;
    // Nothing scanned: the next open scans nothing either, so the state needs no snapshot yet.
    if (scanned > 0) this.background(this.takeSnapshot(end, segments[segments.length - 1]!.baseOffset));
    else this.snapshotEnd = end;
  }

  /** After an append of `batches` ending at `endOffset`: updates the table, and takes a snapshot when one is due. */
  appended(batches: Buffer, withProducers: boolean, endOffset: number, activeBase: number): void {
    if (withProducers) {
      for (let pos = 0; pos < batches.length; pos += LOG_OVERHEAD + batches.readInt32BE(pos + BatchField.batchLength)) this.table.update(batches, pos);
    }
    this.bytesSinceSnapshot += batches.length;
    if (this.bytesSinceSnapshot >= SNAPSHOT_INTERVAL_BYTES) this.background(this.takeSnapshot(endOffset, activeBase));
  }

  /** At a roll to a segment at `newBase`: the snapshot that lets a recovery of that segment start there. */
  rolled(newBase: number, oldBase: number): void {
    this.background(this.takeSnapshot(newBase, oldBase));
  }

  /**
   * Writes the table as it is now as the snapshot at `offset` (the log end offset), then deletes the
   * snapshots strictly between `keepUpTo` and `offset`: a segment's base keeps its roll snapshot.
   */
  takeSnapshot(offset: number, keepUpTo: number): Promise<void> {
    if (this.snapshotEnd === offset && this.bytesSinceSnapshot === 0) return Promise.resolve();
    const bytes = this.table.encode();
    this.bytesSinceSnapshot = 0;
    this.snapshotEnd = offset;
    return this.serially(async () => {
      await this.store.replaceFile(this.dir, snapshotFileName(offset), bytes);
      if (!this.snapshots.includes(offset)) this.snapshots = [...this.snapshots, offset].sort((a, b) => a - b);
      await this.deleteSnapshots((o) => o > keepUpTo && o < offset);
    });
  }

  /** Drops the snapshots of deleted segments: those below the first remaining segment. */
  deleteSnapshotsBefore(offset: number): Promise<void> {
    return this.serially(() => this.deleteSnapshots((o) => o < offset));
  }

  /** After the log was cut back to `segments`: reloads the table from the newest snapshot at or below the new end. */
  async truncated(segments: readonly LogSegment[]): Promise<void> {
    const end = segments[segments.length - 1]!.nextOffset;
    const snapshot = await this.serially(async () => {
      await this.deleteSnapshots((o) => o > end);
      return this.loadNewestSnapshot(end);
    });
    const table = snapshot?.table ?? new ProducerStateTable();
    // Batches appended while the snapshot was read are replayed too: `segments` is the live list.
    replay(table, segments, snapshot?.offset ?? segments[0]!.baseOffset, segments[segments.length - 1]!.nextOffset);
    this.table = table;
    this.snapshotEnd = undefined;
  }

  /** After the whole log was deleted and restarted empty. */
  truncatedFully(): Promise<void> {
    this.table.clear();
    this.bytesSinceSnapshot = 0;
    this.snapshotEnd = undefined;
    return this.serially(() => this.deleteSnapshots(() => true));
  }

  /** The newest readable snapshot at or below `end`; unreadable ones are deleted on the way. */
  private async loadNewestSnapshot(end: number): Promise<{ offset: number; table: ProducerStateTable } | undefined> {
    for (let i = this.snapshots.length - 1; i >= 0; i--) {
      const offset = this.snapshots[i]!;
      if (offset > end) continue;
      const bytes = await this.store.readFile(this.dir, snapshotFileName(offset));
      try {
        if (bytes === undefined) throw new BrokerError('NOT_FOUND', `${snapshotFileName(offset)} vanished`);
        return { offset, table: ProducerStateTable.decode(bytes) };
      } catch (err) {
        if (!BrokerError.is(err)) throw err;
        await this.deleteSnapshots((o) => o === offset);
      }
    }
    return undefined;
  }

  private async deleteSnapshots(doomed: (offset: number) => boolean): Promise<void> {
    const deleting = this.snapshots.filter(doomed);
    if (deleting.length === 0) return;
    this.snapshots = this.snapshots.filter((o) => !doomed(o));
    for (const offset of deleting) await this.store.deleteFile(this.dir, snapshotFileName(offset));
  }

  /** Snapshot writes and deletions run one at a time, in call order, so none overtakes another. */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work);
    this.writes = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

/** Feeds the table every batch in [from, to) of `segments`, reading headers only; returns how many. */
function replay(table: ProducerStateTable, segments: readonly LogSegment[], from: number, to: number): number {
  let count = 0;
  for (const segment of segments) {
    if (segment.nextOffset <= from) continue;
    if (segment.baseOffset >= to) break;
    const scanner = new BatchScanner(segment.file, from > segment.baseOffset ? segment.offsetIndex.lookup(from) : 0, SCAN_WINDOW);
    for (let batch = scanner.next(); batch !== undefined && batch.baseOffset < to; batch = scanner.next()) {
      if (batch.baseOffset < from) continue;
      // next() leaves the whole header in the window.
      table.update(scanner.window, batch.position - scanner.windowPosition);
      count++;
    }
  }
  return count;
}
