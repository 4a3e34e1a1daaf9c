import { BrokerError } from '../errors.ts';
import { BatchField, batchSizeAt, forEachRecord, readInt64, validateRecordBatch } from '../record/index.ts';
import { BatchScanner, type ScannedBatch } from './batch-scanner.ts';
import { segmentFileName } from './log-names.ts';
import { OffsetIndex } from './offset-index.ts';
import type { OffsetAndTimestamp } from './partition-log.ts';
import type { SegmentFile, SegmentStore } from './segment-store.ts';
import { TimeIndex } from './time-index.ts';

const RECOVERY_WINDOW = 8 * 1024 * 1024;
const MIN_READ_WINDOW = 8 * 1024;

export interface RecoveryResult {
  /** Bytes cut from the end because they did not form valid batches. */
  truncatedBytes: number;
}

/**
 * One segment of a log: the `.log` file of whole batches starting at `baseOffset`, plus its sparse
 * offset and time indexes, kept in memory and persisted when the segment is closed or rolled.
 */
export class LogSegment {
  offsetIndex: OffsetIndex;
  timeIndex: TimeIndex;
  nextOffset: number;
  maxTimestamp = -1;
  /** When a batch was last appended here (Kafka: the file's mtime). */
  lastModified: number;
  private offsetOfMaxTimestamp: number;
  private bytesSinceIndexEntry = 0;

  constructor(
    readonly baseOffset: number,
    readonly file: SegmentFile,
    readonly createdAt: number,
    private readonly indexIntervalBytes: number,
  ) {
    this.offsetIndex = new OffsetIndex(baseOffset);
    this.timeIndex = new TimeIndex(baseOffset);
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestamp = baseOffset;
    this.lastModified = file.lastModified ?? createdAt;
  }

  get size(): number {
    return this.file.size;
  }

  /**
   * Kafka's LogSegment.largestTimestamp, which time retention goes by: the newest record timestamp, or
   * when the segment was last written if no batch here carries a timestamp.
   */
  get largestTimestamp(): number {
    return this.maxTimestamp >= 0 ? this.maxTimestamp : this.lastModified;
  }

  /** Appends whole batches spanning [firstOffset, lastOffset] at time `now`; indexes them every indexIntervalBytes. */
  append(bytes: Buffer, firstOffset: number, lastOffset: number, maxTimestamp: number, now: number): void {
    const position = this.file.size;
    this.file.append(bytes);
    this.lastModified = now;
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = firstOffset;
    }
    if (this.bytesSinceIndexEntry >= this.indexIntervalBytes || position === 0) {
      this.offsetIndex.append(firstOffset, position);
      this.timeIndex.append(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceIndexEntry = 0;
    }
    if (bytes.length > this.indexIntervalBytes) this.indexWithin(bytes, position);
    else this.bytesSinceIndexEntry += bytes.length;
    this.nextOffset = lastOffset + 1;
  }

  /** Index entries inside a multi-batch append, so a read of one of its batches does not scan them all. */
  private indexWithin(bytes: Buffer, position: number): void {
    let since = this.bytesSinceIndexEntry;
    for (let pos = 0; pos < bytes.length; ) {
      const size = batchSizeAt(bytes, pos);
      if (size <= 0) break;
      if (since >= this.indexIntervalBytes) {
        this.offsetIndex.append(readInt64(bytes, pos + BatchField.baseOffset), position + pos);
        since = 0;
      }
      since += size;
      pos += size;
    }
    this.bytesSinceIndexEntry = since;
  }

  /**
   * Whole batches from the one containing `offset`: at least one, then more while they fit in
   * `maxBytes` and start before `maxOffset`. Empty if no batch here reaches `offset`.
   */
  read(offset: number, maxBytes: number, maxOffset: number): Buffer {
    const start = this.offsetIndex.lookup(offset);
    // The batch holding `offset` ends by the next index entry: when that span is at least maxBytes, reading
    // exactly it returns the first batch whole in one read (a fixed window could cut a large batch short).
    const next = this.offsetIndex.nextPosition(offset);
    const window = next - start >= maxBytes ? next - start : Math.max(maxBytes + this.indexIntervalBytes, MIN_READ_WINDOW);
    const scanner = new BatchScanner(this.file, start, window);
    let first: ScannedBatch | undefined;
    while ((first = scanner.next()) !== undefined && first.lastOffset < offset);
    if (first === undefined) {
      if (scanner.stoppedEarly) throw damaged(this.file.name, scanner.position);
      return EMPTY;
    }
    if (first.baseOffset >= maxOffset) return EMPTY;
    const end = first.position + first.size;
    if (first.size >= maxBytes) return scanner.range(first.position, end);
    if (end > scanner.windowPosition + scanner.window.length) scanner.refill(end - first.size, maxBytes);
    scanner.position = end;
    let last = end;
    for (let batch = scanner.nextInWindow(); batch !== undefined; batch = scanner.nextInWindow()) {
      if (batch.baseOffset >= maxOffset || batch.position + batch.size - first.position > maxBytes) break;
      last = batch.position + batch.size;
    }
    return scanner.range(first.position, last);
  }

  /**
   * Kafka's LogSegment.findOffsetByTimestamp: the first record in [startOffset, maxOffset) whose timestamp
   * is at least `timestamp`. Only the one batch that holds it is decoded (decompressed if need be).
   */
  findOffsetByTime(timestamp: number, startOffset: number, maxOffset: number): OffsetAndTimestamp | undefined {
    const start = this.offsetIndex.lookup(Math.max(this.timeIndex.lookup(timestamp), startOffset));
    const scanner = new BatchScanner(this.file, start, MIN_READ_WINDOW);
    for (let batch = scanner.next(); batch !== undefined && batch.baseOffset < maxOffset; batch = scanner.next()) {
      if (batch.maxTimestamp < timestamp || batch.lastOffset < startOffset) continue;
      let found: OffsetAndTimestamp | undefined;
      forEachRecord(scanner.bytesOf(batch), 0, (offset, recordTimestamp) => {
        if (found === undefined && recordTimestamp >= timestamp && offset >= startOffset) found = { offset, timestamp: recordTimestamp };
      });
      if (found) return found;
    }
    return undefined;
  }

  /** Cuts every batch that ends at or after `offset`. */
  truncateTo(offset: number): void {
    const scanner = new BatchScanner(this.file, this.offsetIndex.lookup(offset), MIN_READ_WINDOW);
    let batch: ScannedBatch | undefined;
    while ((batch = scanner.next()) !== undefined && batch.lastOffset < offset);
    if (batch === undefined) return;
    this.file.truncate(batch.position);
    this.offsetIndex.truncateToPosition(batch.position);
    this.timeIndex.truncateToOffset(batch.baseOffset);
    this.nextOffset = batch.baseOffset;
    this.rescanTail();
  }

  /**
   * Kafka's LogSegment.recover: validate every batch (length, CRC, offsets moving forward), rebuild the
   * indexes, and cut the file at the first invalid byte. In a compacted log offsets may skip ahead
   * (`offsetGaps`); elsewhere a batch must start where the last one ended.
   */
  recover(offsetGaps = false): RecoveryResult {
    this.offsetIndex = new OffsetIndex(this.baseOffset);
    this.timeIndex = new TimeIndex(this.baseOffset);
    this.maxTimestamp = -1;
    this.nextOffset = this.baseOffset;
    this.bytesSinceIndexEntry = 0;
    const size = this.file.size;
    const scanner = new BatchScanner(this.file, 0, RECOVERY_WINDOW);
    let validBytes = 0;
    for (let batch = scanner.next(); batch !== undefined; batch = scanner.next()) {
      // Offsets run on without gaps from the segment's base: a batch that does not start where the last one
      // ended has a damaged baseOffset (which the CRC does not cover).
      const continues = offsetGaps ? batch.baseOffset >= this.nextOffset : batch.baseOffset === this.nextOffset;
      if (!continues || batch.lastOffset < batch.baseOffset) break;
      const bytes = scanner.bytesOf(batch);
      try {
        validateRecordBatch(bytes);
      } catch (err) {
        if (BrokerError.is(err)) break;
        throw err;
      }
      this.indexBatch(batch, validBytes);
      validBytes += batch.size;
    }
    if (validBytes < size) this.file.truncate(validBytes);
    return { truncatedBytes: size - validBytes };
  }

  /** Loads persisted indexes for a segment below the recovery point; recovers instead if they are unusable. */
  async load(store: SegmentStore, log: string, offsetGaps = false): Promise<void> {
    try {
      const offsetBytes = await store.readFile(log, segmentFileName(this.baseOffset, '.index'));
      const timeBytes = await store.readFile(log, segmentFileName(this.baseOffset, '.timeindex'));
      if (offsetBytes === undefined || timeBytes === undefined) throw new BrokerError('NOT_FOUND', 'index missing');
      this.offsetIndex = OffsetIndex.fromBuffer(this.baseOffset, offsetBytes, this.file.size);
      this.timeIndex = TimeIndex.fromBuffer(this.baseOffset, timeBytes, Number.MAX_SAFE_INTEGER);
      this.rescanTail();
      if (this.timeIndex.entries > 0 && this.timeIndex.lookup(Number.MAX_SAFE_INTEGER) >= this.nextOffset) {
        throw new BrokerError('NOT_FOUND', 'time index points past the log');
      }
      if (this.file.size > 0 && this.offsetIndex.entries === 0) throw new BrokerError('NOT_FOUND', 'index empty');
    } catch (err) {
      if (!BrokerError.is(err)) throw err;
      this.recover(offsetGaps);
    }
  }

  /** Persists both indexes, first recording the segment's max timestamp as the last time entry. */
  async persistIndexes(store: SegmentStore, log: string, options?: { syncDirectory?: boolean }): Promise<void> {
    if (this.maxTimestamp >= 0) this.timeIndex.append(this.maxTimestamp, this.offsetOfMaxTimestamp);
    // Both at once: their syncs can share the file system's journal commit.
    await Promise.all([
      store.replaceFile(log, segmentFileName(this.baseOffset, '.index'), this.offsetIndex.toBuffer(), options),
      store.replaceFile(log, segmentFileName(this.baseOffset, '.timeindex'), this.timeIndex.toBuffer(), options),
    ]);
  }

  /** Finds nextOffset, the max timestamp and the bytes since the last index entry by scanning the headers after it. */
  private rescanTail(): void {
    const from = this.offsetIndex.lookup(Number.MAX_SAFE_INTEGER);
    const scanner = new BatchScanner(this.file, from, MIN_READ_WINDOW);
    this.nextOffset = this.baseOffset;
    this.maxTimestamp = this.timeIndex.lastTimestamp;
    for (let batch = scanner.next(); batch !== undefined; batch = scanner.next()) {
      this.nextOffset = batch.lastOffset + 1;
      if (batch.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = batch.maxTimestamp;
        this.offsetOfMaxTimestamp = batch.baseOffset;
      }
    }
    this.bytesSinceIndexEntry = this.file.size - from;
  }

  private indexBatch(batch: ScannedBatch, position: number): void {
    if (batch.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = batch.maxTimestamp;
      this.offsetOfMaxTimestamp = batch.baseOffset;
    }
    if (this.bytesSinceIndexEntry >= this.indexIntervalBytes || position === 0) {
      this.offsetIndex.append(batch.baseOffset, position);
      this.timeIndex.append(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += batch.size;
    this.nextOffset = batch.lastOffset + 1;
  }
}

const EMPTY = Buffer.alloc(0);

/** Bytes inside a segment that do not form a batch: the file was damaged after it was written. */
function damaged(file: string, position: number): BrokerError {
  return new BrokerError('CORRUPT_RECORD', `${file} is damaged at byte ${position}: no valid batch starts there`);
}
