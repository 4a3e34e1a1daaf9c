import { malformed } from '../errors.ts';

const ENTRY_SIZE = 12;

/**
 * Sparse map from timestamp to offset: entries (max timestamp so far, base offset of the batch that
 * first reached it), both increasing. On disk: Kafka's layout, int64 timestamp + uint32 relative offset.
 */
export class TimeIndex {
  private timestamps: Float64Array = new Float64Array(16);
  private offsets: Float64Array = new Float64Array(16);
  private count = 0;

  constructor(readonly baseOffset: number) {}

  get entries(): number {
    return this.count;
  }

  /** The newest timestamp indexed, or -1. */
  get lastTimestamp(): number {
    return this.count === 0 ? -1 : this.timestamps[this.count - 1]!;
  }

  append(timestamp: number, offset: number): void {
    if (this.count > 0 && (timestamp <= this.timestamps[this.count - 1]! || offset <= this.offsets[this.count - 1]!)) return;
    if (this.count === this.timestamps.length) {
      this.timestamps = grow(this.timestamps);
      this.offsets = grow(this.offsets);
    }
    this.timestamps[this.count] = timestamp;
    this.offsets[this.count] = offset;
    this.count++;
  }

  /**
   * An offset from which to scan for the first record at or after `timestamp`: every batch before it has
   * only older records. The segment's base offset when no entry qualifies.
   */
  lookup(timestamp: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestamps[mid]! < timestamp) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? this.baseOffset : this.offsets[found]!;
  }

  /** Drops entries at or past `offset`. */
  truncateToOffset(offset: number): void {
    while (this.count > 0 && this.offsets[this.count - 1]! >= offset) this.count--;
  }

  toBuffer(): Buffer {
    const buf = Buffer.allocUnsafe(this.count * ENTRY_SIZE);
    for (let i = 0; i < this.count; i++) {
      buf.writeBigInt64BE(BigInt(this.timestamps[i]!), i * ENTRY_SIZE);
      buf.writeUInt32BE(this.offsets[i]! - this.baseOffset, i * ENTRY_SIZE + 8);
    }
    return buf;
  }

  /** Loads a persisted index; MALFORMED_INPUT unless it is well formed and ends before `nextOffset`. */
  static fromBuffer(baseOffset: number, buf: Buffer, nextOffset: number): TimeIndex {
    if (buf.length % ENTRY_SIZE !== 0) throw malformed('time index size is not a multiple of its entry size');
    const index = new TimeIndex(baseOffset);
    for (let pos = 0; pos < buf.length; pos += ENTRY_SIZE) {
      const timestamp = Number(buf.readBigInt64BE(pos));
      const offset = baseOffset + buf.readUInt32BE(pos + 8);
      const before = index.count;
      if (offset >= nextOffset) throw malformed('time index entry points past the log');
      index.append(timestamp, offset);
      if (index.count === before) throw malformed('time index entries are not increasing');
    }
    return index;
  }
}

function grow(array: Float64Array): Float64Array {
  const bigger = new Float64Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
