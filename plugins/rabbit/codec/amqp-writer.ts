import { malformed, writeInt64 } from '../../../core/index.ts';
import { tableSize, writeTable, type FieldTable } from './field-table.ts';

/** Writes AMQP method arguments into a growable buffer; bits are packed like the reader expects. */
export class AmqpWriter {
  buf: Buffer;
  pos: number;
  private bitAt = -1;
  private bitIndex = 8;

  constructor(initial = 128, start = 0) {
    this.buf = Buffer.allocUnsafe(initial);
    this.pos = start;
  }

  private room(n: number): void {
    this.bitIndex = 8;
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n + 64));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  octet(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }
  short(v: number): void {
    this.room(2);
    this.pos = this.buf.writeUInt16BE(v, this.pos);
  }
  long(v: number): void {
    this.room(4);
    this.pos = this.buf.writeUInt32BE(v, this.pos);
  }
  longlong(v: number): void {
    this.room(8);
    writeInt64(this.buf, this.pos, v);
    this.pos += 8;
  }
  timestamp(v: number): void {
    this.longlong(v);
  }
  shortstr(v: string): void {
    const length = Buffer.byteLength(v);
    if (length > 255) throw malformed(`short string longer than 255 bytes: ${v.slice(0, 40)}`);
    this.room(1 + length);
    this.buf[this.pos] = length;
    this.pos += 1 + this.buf.write(v, this.pos + 1, 'utf8');
  }
  longstr(v: Buffer): void {
    this.room(4 + v.length);
    this.pos = this.buf.writeUInt32BE(v.length, this.pos);
    this.pos += v.copy(this.buf, this.pos);
  }
  table(v: FieldTable): void {
    const size = tableSize(v);
    this.room(4 + size);
    this.pos = this.buf.writeUInt32BE(size, this.pos);
    this.pos = writeTable(this.buf, this.pos, v);
  }
  bit(v: boolean): void {
    if (this.bitIndex === 8) {
      this.room(1);
      this.bitAt = this.pos;
      this.buf[this.pos++] = 0;
      this.bitIndex = 0;
    }
    if (v) this.buf[this.bitAt]! |= 1 << this.bitIndex;
    this.bitIndex++;
  }
  /** Ensures `n` writable bytes and returns where they start (for callers writing raw bytes). */
  reserve(n: number): number {
    this.room(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }
}
