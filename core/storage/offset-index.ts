import { malformed } from '../errors.ts';

const ENTRY_SIZE = 8;

/**
 * Sparse map from offset to file position, one entry every `indexIntervalBytes` of log.
 * Entries are (offset relative to the segment's baseOffset, position), both uint32, in increasing order.
 * On disk: Kafka's layout, 8 bytes per entry, big-endian.
 */
export class OffsetIndex {
  private offsets: Uint32Array = new Uint32Array(16);
  private positions: Uint32Array = new Uint32Array(16);
  private count = 0;

  constructor(readonly baseOffset: number) {}

  get entries(): number {
    return this.count;
  }

  append(offset: number, position: number): void {
    const relative = offset - this.baseOffset;
    if (this.count > 0 && (relative <= this.offsets[this.count - 1]! || position <= this.positions[this.count - 1]!)) return;
    if (this.count === this.offsets.length) {
      this.offsets = grow(this.offsets);
      this.positions = grow(this.positions);
    }
    this.offsets[this.count] = relative;
    this.positions[this.count] = position;
    this.count++;
  }

  /** Position of the last indexed batch starting at or before `offset`, else 0. */
  lookup(offset: number): number {
    const after = this.firstEntryAfter(offset);
    return after === 0 ? 0 : this.positions[after - 1]!;
  }

  /** Position of the first indexed batch starting after `offset`, or -1 if none is indexed. */
  nextPosition(offset: number): number {
    const after = this.firstEntryAfter(offset);
    return after === this.count ? -1 : this.positions[after]!;
  }

  /** Index of the first entry whose offset is above `offset` (count if none). */
  private firstEntryAfter(offset: number): number {
    const relative = offset - this.baseOffset;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsets[mid]! <= relative) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops entries at or past `position`. */
  truncateToPosition(position: number): void {
    while (this.count > 0 && this.positions[this.count - 1]! >= position) this.count--;
  }

  toBuffer(): Buffer {
    const buf = Buffer.allocUnsafe(this.count * ENTRY_SIZE);
    for (let i = 0; i < this.count; i++) {
      buf.writeUInt32BE(this.offsets[i]!, i * ENTRY_SIZE);
      buf.writeUInt32BE(this.positions[i]!, i * ENTRY_SIZE + 4);
    }
    return buf;
  }

  /** Loads a persisted index; MALFORMED_INPUT unless it is well formed and fits a log of `logSize` bytes. */
  static fromBuffer(baseOffset: number, buf: Buffer, logSize: number): OffsetIndex {
    if (buf.length % ENTRY_SIZE !== 0) throw malformed('offset index size is not a multiple of its entry size');
    const index = new OffsetIndex(baseOffset);
    for (let pos = 0; pos < buf.length; pos += ENTRY_SIZE) {
      const relative = buf.readUInt32BE(pos);
      const position = buf.readUInt32BE(pos + 4);
      const before = index.count;
      if (position >= logSize) throw malformed('offset index entry points past the log');
      index.append(baseOffset + relative, position);
      if (index.count === before) throw malformed('offset index entries are not increasing');
    }
    return index;
  }
}

function grow(array: Uint32Array): Uint32Array {
  const bigger = new Uint32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
