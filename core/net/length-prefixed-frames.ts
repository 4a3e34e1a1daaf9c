import { BrokerError } from '../errors.ts';
import type { RequestMemory } from './request-memory.ts';

/** The first buffer of a frame that spans socket reads holds at least this much. */
const MIN_PARTIAL_BYTES = 256;

/**
 * Reassembles frames that start with a big-endian int32 size (Kafka's framing) from socket chunks.
 * The size is checked against the limit before anything is allocated. A frame wholly inside one chunk
 * is handed out as a view of it; a frame spanning chunks is copied into a buffer that grows as its
 * bytes arrive (doubling, up to the declared size), so a sender pays in bytes sent for the memory it
 * holds, whatever size it declares. With a `RequestMemory`, every frame handed out is charged to it
 * by its length until the consumer releases it, and a growing buffer is charged as it grows.
 */
export class LengthPrefixedFrames {
  private partial: Buffer | undefined;
  private size = 0;
  private filled = 0;
  private header = 0;
  private headerFilled = 0;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly memory?: RequestMemory,
  ) {}

  /** Frames completed by `chunk`, in order; FRAME_TOO_LARGE or MALFORMED_INPUT for a bad size. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.partial) {
        pos = this.append(chunk, pos);
        if (this.filled === this.size) {
          frames.push(this.partial);
          this.partial = undefined;
          this.memory?.finished(this);
        }
        continue;
      }
      if (this.headerFilled > 0 || chunk.length - pos < 4) {
        while (this.headerFilled < 4 && pos < chunk.length) {
          this.header = (this.header << 8) | chunk[pos++]!;
          this.headerFilled++;
        }
        if (this.headerFilled < 4) break;
        this.headerFilled = 0;
        const size = this.checkSize(this.header);
        if (size === 0) frames.push(EMPTY);
        else this.startPartial(size, chunk.length - pos);
        continue;
      }
      const size = this.checkSize(chunk.readInt32BE(pos));
      pos += 4;
      if (chunk.length - pos >= size) {
        frames.push(chunk.subarray(pos, pos + size));
        this.memory?.charge(size);
        pos += size;
      } else this.startPartial(size, chunk.length - pos);
    }
    return frames;
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return (this.partial ? this.filled : 0) + this.headerFilled;
  }

  /** Whether part of a frame has arrived and the rest has not. */
  get incomplete(): boolean {
    return this.partial !== undefined || this.headerFilled > 0;
  }

  /** Gives back the memory of an incomplete frame (its connection is closing). */
  dispose(): void {
    if (!this.partial) return;
    this.memory?.release(this.partial.length);
    this.memory?.finished(this);
    this.partial = undefined;
  }

  private startPartial(size: number, available: number): void {
    this.size = size;
    this.filled = 0;
    this.partial = Buffer.allocUnsafe(Math.min(size, Math.max(MIN_PARTIAL_BYTES, 2 * available)));
    this.memory?.charge(this.partial.length);
    this.memory?.started(this);
  }

  /** Copies what `chunk` holds of the partial frame from `pos`, growing the buffer as needed; returns the new position. */
  private append(chunk: Buffer, pos: number): number {
    const n = Math.min(chunk.length - pos, this.size - this.filled);
    const partial = this.partial!;
    if (this.filled + n > partial.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.size, Math.max(this.filled + n, 2 * partial.length)));
      partial.copy(grown, 0, 0, this.filled);
      this.memory?.charge(grown.length - partial.length);
      this.partial = grown;
    }
    chunk.copy(this.partial!, this.filled, pos, pos + n);
    this.filled += n;
    return pos + n;
  }

  private checkSize(size: number): number {
    if (size < 0) throw new BrokerError('MALFORMED_INPUT', `negative frame size ${size}`);
    if (size > this.maxFrameBytes) throw new BrokerError('FRAME_TOO_LARGE', `frame of ${size} bytes exceeds the limit of ${this.maxFrameBytes}`);
    return size;
  }
}

const EMPTY = Buffer.alloc(0);
