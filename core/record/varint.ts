import { malformed } from '../errors.ts';

/** Zig-zag varints as Kafka's record format uses them (protobuf sint32/sint64 encoding). */

/** Bytes needed to zig-zag encode a safe integer. */
export function varintSize(value: number): number {
  let z = zigzag(value);
  let size = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 128);
    size++;
  }
  return size;
}

/** Writes a zig-zag varint at `offset`; returns the offset after it. */
export function writeVarint(buf: Buffer, offset: number, value: number): number {
  let z = zigzag(value);
  while (z >= 0x80) {
    buf[offset++] = (z & 0x7f) | 0x80;
    z = Math.floor(z / 128);
  }
  buf[offset++] = z;
  return offset;
}

/** A reader over a byte range, every read bounds-checked; failures are MALFORMED_INPUT. */
export class VarintReader {
  constructor(
    readonly buf: Buffer,
    public offset: number,
    readonly end: number,
  ) {}

  /** Reads a zig-zag varint of at most `maxBytes` bytes (5 for int32, 10 for int64) as a safe integer. */
  varint(maxBytes: 5 | 10 = 5): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < maxBytes; i++) {
      if (this.offset >= this.end) throw malformed('varint runs past the end');
      const byte = this.buf[this.offset++]!;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (result > Number.MAX_SAFE_INTEGER) throw malformed('varint exceeds the safe integer range');
        return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      }
      scale *= 128;
    }
    throw malformed('varint too long');
  }

  int8(): number {
    if (this.offset + 1 > this.end) throw malformed('int8 runs past the end');
    return this.buf.readInt8(this.offset++);
  }

  /** `length` bytes as a view, or null for length -1. */
  bytes(length: number): Buffer | null {
    if (length === -1) return null;
    if (length < 0 || length > this.end - this.offset) throw malformed('length out of range');
    const view = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return view;
  }
}

function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}
