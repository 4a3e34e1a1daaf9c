import { malformed, readInt64 } from '../../../core/index.ts';

/** A bounds-checked reader over one request or response; every failure is MALFORMED_INPUT. */
export class Reader {
  constructor(
    readonly buf: Buffer,
    public offset = 0,
    readonly end = buf.length,
  ) {}

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number): number {
    if (n > this.end - this.offset) throw malformed(`needs ${n} bytes at ${this.offset}, ${this.end - this.offset} remain`);
    const at = this.offset;
    this.offset += n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.need(1));
  }
  int16(): number {
    return this.buf.readInt16BE(this.need(2));
  }
  uint16(): number {
    return this.buf.readUInt16BE(this.need(2));
  }
  int32(): number {
    return this.buf.readInt32BE(this.need(4));
  }
  uint32(): number {
    return this.buf.readUInt32BE(this.need(4));
  }
  int64(): number {
    return readInt64(this.buf, this.need(8));
  }
  float64(): number {
    return this.buf.readDoubleBE(this.need(8));
  }
  bool(): boolean {
    return this.buf[this.need(1)] !== 0;
  }
  uuid(): Buffer {
    const at = this.need(16);
    return this.buf.subarray(at, at + 16);
  }

  /** Unsigned varint of at most 5 bytes (Kafka's compact lengths, counts and tags). */
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.buf[this.need(1)]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (value > 0xffffffff) throw malformed('unsigned varint exceeds 32 bits');
        return value;
      }
    }
    throw malformed('unsigned varint too long');
  }

  private text(length: number): string {
    const at = this.need(length);
    return this.buf.toString('utf8', at, at + length);
  }
  private view(length: number): Buffer {
    const at = this.need(length);
    return this.buf.subarray(at, at + length);
  }

  string(): string {
    const length = this.int16();
    if (length < 0) throw malformed('null where a string is required');
    return this.text(length);
  }
  nullableString(): string | null {
    const length = this.int16();
    return length < 0 ? null : this.text(length);
  }
  compactString(): string {
    const length = this.uvarint() - 1;
    if (length < 0) throw malformed('null where a string is required');
    return this.text(length);
  }
  compactNullableString(): string | null {
    const length = this.uvarint() - 1;
    return length < 0 ? null : this.text(length);
  }
  bytes(): Buffer {
    const length = this.int32();
    if (length < 0) throw malformed('null where bytes are required');
    return this.view(length);
  }
  nullableBytes(): Buffer | null {
    const length = this.int32();
    return length < 0 ? null : this.view(length);
  }
  compactBytes(): Buffer {
    const length = this.uvarint() - 1;
    if (length < 0) throw malformed('null where bytes are required');
    return this.view(length);
  }
  compactNullableBytes(): Buffer | null {
    const length = this.uvarint() - 1;
    return length < 0 ? null : this.view(length);
  }

  /** An array length, bounded by the bytes left so no count can make a reader loop or allocate without end. */
  arrayLength(compact: boolean): number {
    const length = compact ? this.uvarint() - 1 : this.int32();
    if (length > this.end - this.offset) throw malformed(`array of ${length} elements cannot fit in ${this.end - this.offset} bytes`);
    return length;
  }

  array<T>(compact: boolean, element: (r: Reader) => T): T[] {
    const length = this.arrayLength(compact);
    if (length < 0) throw malformed('null where an array is required');
    const out = new Array<T>(length);
    for (let i = 0; i < length; i++) out[i] = element(this);
    return out;
  }

  nullableArray<T>(compact: boolean, element: (r: Reader) => T): T[] | null {
    const length = this.arrayLength(compact);
    if (length < 0) return null;
    const out = new Array<T>(length);
    for (let i = 0; i < length; i++) out[i] = element(this);
    return out;
  }

  /** Reads a tagged-field section; `known` reads a tag it understands and returns true, else the field is skipped. */
  taggedFields(known: (tag: number, r: Reader) => boolean): void {
    const count = this.uvarint();
    if (count > this.end - this.offset) throw malformed('too many tagged fields');
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      if (tag <= previous) throw malformed('tagged fields out of order');
      previous = tag;
      const size = this.uvarint();
      const end = this.offset + size;
      if (size > this.end - this.offset) throw malformed('tagged field runs past the end');
      const sub = new Reader(this.buf, this.offset, end);
      if (known(tag, sub) && sub.offset !== end) throw malformed(`tagged field ${tag} has ${end - sub.offset} extra bytes`);
      this.offset = end;
    }
  }
}
