import { malformed, readInt64 } from '../../../core/index.ts';
import { decodeTable, type FieldTable } from './field-table.ts';

/** A bounds-checked reader of AMQP method arguments; failures are MALFORMED_INPUT. */
export class AmqpReader {
  private bits = 0;
  private bitIndex = 8;

  constructor(
    readonly buf: Buffer,
    public offset: number,
    readonly end: number,
  ) {}

  private need(n: number): number {
    this.bitIndex = 8;
    if (n > this.end - this.offset) throw malformed(`method arguments need ${n} bytes, ${this.end - this.offset} remain`);
    const at = this.offset;
    this.offset += n;
    return at;
  }

  octet(): number {
    return this.buf[this.need(1)]!;
  }
  short(): number {
    return this.buf.readUInt16BE(this.need(2));
  }
  long(): number {
    return this.buf.readUInt32BE(this.need(4));
  }
  longlong(): number {
    const at = this.need(8);
    const value = readInt64(this.buf, at);
    if (value < 0) throw malformed('unsigned 64-bit value out of range');
    return value;
  }
  timestamp(): number {
    return this.longlong();
  }
  shortstr(): string {
    const length = this.octet();
    const at = this.need(length);
    return this.buf.toString('utf8', at, at + length);
  }
  longstr(): Buffer {
    const length = this.long();
    const at = this.need(length);
    return this.buf.subarray(at, at + length);
  }
  table(): FieldTable {
    const length = this.long();
    const at = this.need(length);
    return decodeTable(this.buf, at, at + length);
  }
  /** Consecutive bits share octets, low bit first. */
  bit(): boolean {
    if (this.bitIndex === 8) {
      if (this.offset >= this.end) throw malformed('bit field runs past the end');
      this.bits = this.buf[this.offset++]!;
      this.bitIndex = 0;
    }
    return (this.bits & (1 << this.bitIndex++)) !== 0;
  }
}
