import { BrokerError } from '../errors.ts';
import type { RequestMemory } from './request-memory.ts';

/** Parts of a frame smaller than this are copied together rather than kept as views of their socket reads. */
const GATHER_BELOW = 4096;
/** The first buffer small parts are gathered in; it doubles up to GATHER_BELOW. */
const FIRST_GATHER_BYTES = 256;

/**
 * Reassembles frames that start with a big-endian int32 size (Kafka's framing) from socket chunks.
 * The size is checked against the limit before anything is allocated. A frame wholly inside one chunk
 * is handed out as a view of it. A frame spanning chunks is kept as the parts that have arrived (views
 * of large socket reads; small ones copied together) and copied once into one buffer when it is whole,
 * so a sender holds memory for the bytes it sent, whatever size it declares. With a `RequestMemory`,
 * bytes are charged to it as they arrive, and a frame handed out stays charged by its length until the
 * consumer releases it.
 */
export class LengthPrefixedFrames {
  /** The declared size of the incomplete frame; 0 when there is none. */
  private size = 0;
  private filled = 0;
  private readonly parts: Buffer[] = [];
  private gather: Buffer | undefined;
  private gathered = 0;
  private header = 0;
  private headerFilled = 0;

  constructor(
    private maxFrameBytes: number,
    private readonly memory?: RequestMemory,
  ) {}

  /** Changes the size limit for frames whose size has not been read yet. */
  limit(maxFrameBytes: number): void {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Frames completed by `chunk`, in order; FRAME_TOO_LARGE or MALFORMED_INPUT for a bad size. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.size > 0) {
        pos = this.append(chunk, pos);
        if (this.filled === this.size) frames.push(this.whole());
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
        else this.start(size);
        continue;
      }
      const size = this.checkSize(chunk.readInt32BE(pos));
      pos += 4;
      if (chunk.length - pos >= size) {
        frames.push(chunk.subarray(pos, pos + size));
        this.memory?.charge(size);
        pos += size;
      } else this.start(size);
    }
    return frames;
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.filled + this.headerFilled;
  }

  /** Whether part of a frame has arrived and the rest has not. */
  get incomplete(): boolean {
    return this.size > 0 || this.headerFilled > 0;
  }

  /** Gives back the memory of an incomplete frame (its connection is closing). */
  dispose(): void {
    if (this.size === 0) return;
    this.memory?.release(this.filled);
    this.memory?.finished(this);
    this.reset();
  }

  private start(size: number): void {
    this.size = size;
    this.memory?.started(this);
  }

  /** Takes what `chunk` holds of the incomplete frame from `pos`; returns the new position. */
  private append(chunk: Buffer, pos: number): number {
    const n = Math.min(chunk.length - pos, this.size - this.filled);
    if (n >= GATHER_BELOW) {
      this.sealGather();
      this.parts.push(chunk.subarray(pos, pos + n));
    } else {
      if (this.gather === undefined || this.gather.length - this.gathered < n) {
        const previous = this.gather?.length ?? 0;
        this.sealGather();
        this.gather = Buffer.allocUnsafe(Math.min(this.size - this.filled, Math.max(n, previous === 0 ? FIRST_GATHER_BYTES : Math.min(2 * previous, GATHER_BELOW))));
      }
      this.gathered += chunk.copy(this.gather, this.gathered, pos, pos + n);
    }
    this.filled += n;
    this.memory?.charge(n);
    return pos + n;
  }

  private sealGather(): void {
    if (this.gathered > 0) this.parts.push(this.gather!.subarray(0, this.gathered));
    this.gather = undefined;
    this.gathered = 0;
  }

  /** The frame, now complete, as one buffer: its parts copied together once (or its only part). */
  private whole(): Buffer {
    this.sealGather();
    const frame = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.memory?.finished(this);
    this.reset();
    return frame;
  }

  private reset(): void {
    this.size = 0;
    this.filled = 0;
    this.parts.length = 0;
    this.gather = undefined;
    this.gathered = 0;
  }

  private checkSize(size: number): number {
    if (size < 0) throw new BrokerError('MALFORMED_INPUT', `negative frame size ${size}`);
    if (size > this.maxFrameBytes) throw new BrokerError('FRAME_TOO_LARGE', `frame of ${size} bytes exceeds the limit of ${this.maxFrameBytes}`);
    return size;
  }
}

const EMPTY = Buffer.alloc(0);
