import { BrokerError } from '../errors.ts';

/**
 * Reassembles frames that start with a big-endian int32 size (Kafka's framing) from socket chunks.
 * The size is checked against the limit before anything is allocated; a frame wholly inside one
 * chunk is handed out as a view of it, a frame spanning chunks is copied once into an exact buffer.
 */
export class LengthPrefixedFrames {
  private partial: Buffer | undefined;
  private filled = 0;
  private header = Buffer.alloc(4);
  private headerFilled = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Frames completed by `chunk`, in order; FRAME_TOO_LARGE or MALFORMED_INPUT for a bad size. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.partial) {
        const n = chunk.copy(this.partial, this.filled, pos, pos + this.partial.length - this.filled);
        this.filled += n;
        pos += n;
        if (this.filled === this.partial.length) {
          frames.push(this.partial);
          this.partial = undefined;
        }
        continue;
      }
      if (this.headerFilled > 0 || chunk.length - pos < 4) {
        const n = chunk.copy(this.header, this.headerFilled, pos, pos + 4 - this.headerFilled);
        this.headerFilled += n;
        pos += n;
        if (this.headerFilled < 4) break;
        this.headerFilled = 0;
        const size = this.checkSize(this.header.readInt32BE(0));
        if (size === 0) frames.push(EMPTY);
        else this.startPartial(size);
        continue;
      }
      const size = this.checkSize(chunk.readInt32BE(pos));
      pos += 4;
      if (chunk.length - pos >= size) {
        frames.push(chunk.subarray(pos, pos + size));
        pos += size;
      } else this.startPartial(size);
    }
    return frames;
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return (this.partial ? this.filled : 0) + this.headerFilled;
  }

  private startPartial(size: number): void {
    this.partial = Buffer.allocUnsafe(size);
    this.filled = 0;
  }

  private checkSize(size: number): number {
    if (size < 0) throw new BrokerError('MALFORMED_INPUT', `negative frame size ${size}`);
    if (size > this.maxFrameBytes) throw new BrokerError('FRAME_TOO_LARGE', `frame of ${size} bytes exceeds the limit of ${this.maxFrameBytes}`);
    return size;
  }
}

const EMPTY = Buffer.alloc(0);
