import { writeInt64 } from '../../../core/index.ts';

const EMPTY_UUID = Buffer.alloc(16);

/**
 * Encodes into a growable scratch buffer and hands out a chunk list: record buffers are never copied,
 * they become chunks of their own between the scalar parts.
 */
export class Writer {
  private buf: Buffer;
  private pos = 0;
  private chunkStart = 0;
  private readonly chunks: Buffer[] = [];
  private total = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Bytes written so far, records included. */
  get size(): number {
    return this.total + this.pos - this.chunkStart;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const pending = this.buf.subarray(this.chunkStart, this.pos);
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, pending.length + n + 256));
    pending.copy(bigger, 0);
    this.buf = bigger;
    this.pos = pending.length;
    this.chunkStart = 0;
  }

  int8(v: number): void {
    this.room(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
  }
  int16(v: number): void {
    this.room(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }
  uint16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }
  int32(v: number): void {
    this.room(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }
  uint32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }
  int64(v: number): void {
    this.room(8);
    writeInt64(this.buf, this.pos, v);
    this.pos += 8;
  }
  float64(v: number): void {
    this.room(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }
  bool(v: boolean): void {
    this.int8(v ? 1 : 0);
  }
  uuid(v: Buffer | null): void {
    this.raw(v ?? EMPTY_UUID);
  }
  uvarint(v: number): void {
    this.room(5);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  raw(bytes: Buffer): void {
    this.room(bytes.length);
    this.pos += bytes.copy(this.buf, this.pos);
  }

  string(v: string): void {
    const length = Buffer.byteLength(v);
    this.int16(length);
    this.text(v, length);
  }
  nullableString(v: string | null): void {
    if (v === null) this.int16(-1);
    else this.string(v);
  }
  compactString(v: string): void {
    const length = Buffer.byteLength(v);
    this.uvarint(length + 1);
    this.text(v, length);
  }
  compactNullableString(v: string | null): void {
    if (v === null) this.uvarint(0);
    else this.compactString(v);
  }
  bytes(v: Buffer): void {
    this.int32(v.length);
    this.raw(v);
  }
  nullableBytes(v: Buffer | null): void {
    if (v === null) this.int32(-1);
    else this.bytes(v);
  }
  compactBytes(v: Buffer): void {
    this.uvarint(v.length + 1);
    this.raw(v);
  }
  compactNullableBytes(v: Buffer | null): void {
    if (v === null) this.uvarint(0);
    else this.compactBytes(v);
  }

  /** A `records` field: the length prefix here, the record buffers as chunks of their own. */
  records(v: Buffer | readonly Buffer[] | null, compact: boolean): void {
    if (v === null) {
      if (compact) this.uvarint(0);
      else this.int32(-1);
      return;
    }
    const parts = Buffer.isBuffer(v) ? [v] : v;
    let length = 0;
    for (const part of parts) length += part.length;
    if (compact) this.uvarint(length + 1);
    else this.int32(length);
    if (length < 256) {
      for (const part of parts) this.raw(part);
      return;
    }
    this.cut();
    for (const part of parts) {
      if (part.length === 0) continue;
      this.chunks.push(part);
      this.total += part.length;
    }
  }

  arrayLength(length: number | null, compact: boolean): void {
    if (compact) this.uvarint(length === null ? 0 : length + 1);
    else this.int32(length === null ? -1 : length);
  }

  array<T>(values: readonly T[] | null, compact: boolean, element: (w: Writer, v: T) => void): void {
    this.arrayLength(values === null ? null : values.length, compact);
    if (values !== null) for (const v of values) element(this, v);
  }

  /** One tagged field: its tag, its size, then its bytes. */
  tagged(tag: number, write: (w: Writer) => void): void {
    const sub = new Writer(64);
    write(sub);
    this.uvarint(tag);
    const parts = sub.finish();
    let size = 0;
    for (const p of parts) size += p.length;
    this.uvarint(size);
    for (const p of parts) this.raw(p);
  }

  /** The chunks written so far, in order. */
  finish(): Buffer[] {
    this.cut();
    return this.chunks;
  }

  /** Writes the int32 size prefix Kafka frames start with, then the body, and returns the chunks. */
  static framed(write: (w: Writer) => void, initial = 256): Buffer[] {
    const w = new Writer(initial);
    w.int32(0);
    write(w);
    const chunks = w.finish();
    let size = -4;
    for (const chunk of chunks) size += chunk.length;
    chunks[0]!.writeInt32BE(size, 0);
    return chunks;
  }

  private text(v: string, length: number): void {
    this.room(length);
    this.pos += this.buf.write(v, this.pos, length, 'utf8');
  }

  private cut(): void {
    if (this.pos > this.chunkStart) {
      this.chunks.push(this.buf.subarray(this.chunkStart, this.pos));
      this.total += this.pos - this.chunkStart;
    }
    this.chunkStart = this.pos;
  }
}
