import { BATCH_HEADER_SIZE, BatchField, LOG_OVERHEAD, readInt64 } from '../record/index.ts';
import type { SegmentFile } from './segment-store.ts';

export interface ScannedBatch {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

/**
 * Walks the batch headers of a segment file from a position, reading the file in windows so that
 * records are never touched. `window` holds the bytes last read; callers may slice results out of it.
 * With `reuse` (and a file that can readInto) every window is read into that buffer, grown if a batch
 * needs more: what was sliced out of a window is then valid only until the next read.
 */
export class BatchScanner {
  window: Buffer = Buffer.alloc(0);
  windowPosition = 0;
  position: number;

  constructor(
    private readonly file: SegmentFile,
    start: number,
    private readonly windowSize: number,
    private readonly end = file.size,
    private reuse?: Buffer,
  ) {
    this.position = start;
  }

  /** The next batch's header fields, or undefined at the end or at a torn/invalid header. */
  next(): ScannedBatch | undefined {
    if (this.end - this.position < BATCH_HEADER_SIZE) return undefined;
    let at = this.position - this.windowPosition;
    if (at < 0 || this.window.length - at < BATCH_HEADER_SIZE) {
      this.fill(this.position, this.windowSize);
      at = 0;
    }
    const buf = this.window;
    const batchLength = buf.readInt32BE(at + BatchField.batchLength);
    if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD || LOG_OVERHEAD + batchLength > this.end - this.position) return undefined;
    const baseOffset = readInt64(buf, at + BatchField.baseOffset);
    const batch: ScannedBatch = {
      position: this.position,
      size: LOG_OVERHEAD + batchLength,
      baseOffset,
      lastOffset: baseOffset + buf.readInt32BE(at + BatchField.lastOffsetDelta),
      maxTimestamp: readInt64(buf, at + BatchField.maxTimestamp),
    };
    this.position += batch.size;
    return batch;
  }

  /** After next() returned undefined: true if bytes remain that do not form a batch (damage, not the end). */
  get stoppedEarly(): boolean {
    return this.position < this.end;
  }

  /** Like next(), but only for a batch wholly inside the current window: never reads. */
  nextInWindow(): ScannedBatch | undefined {
    const at = this.position - this.windowPosition;
    if (at < 0 || this.window.length - at < BATCH_HEADER_SIZE) return undefined;
    const size = LOG_OVERHEAD + this.window.readInt32BE(at + BatchField.batchLength);
    if (size > this.window.length - at) return undefined;
    return this.next();
  }

  /** Makes the window start at `position` and hold at least `length` bytes (fewer at the end of the file). */
  refill(position: number, length: number): void {
    this.fill(position, length);
    this.position = position;
  }

  /** The whole batch's bytes as a view, reading again only if the window does not hold all of it. */
  bytesOf(batch: ScannedBatch): Buffer {
    return this.range(batch.position, batch.position + batch.size);
  }

  /** Bytes [from, to) as a view of the window when it covers them, else freshly read. */
  range(from: number, to: number): Buffer {
    const at = from - this.windowPosition;
    if (at >= 0 && to - this.windowPosition <= this.window.length) return this.window.subarray(at, to - this.windowPosition);
    this.fill(from, Math.max(to - from, this.windowSize));
    return this.window.subarray(0, to - from);
  }

  private fill(position: number, length: number): void {
    const wanted = Math.min(length, this.end - position);
    if (this.reuse !== undefined && this.file.readInto !== undefined) {
      if (this.reuse.length < wanted) this.reuse = Buffer.allocUnsafeSlow(wanted);
      this.window = this.reuse.subarray(0, this.file.readInto(this.reuse.subarray(0, Math.max(wanted, 0)), position));
    } else {
      this.window = this.file.read(position, wanted);
    }
    this.windowPosition = position;
  }
}
