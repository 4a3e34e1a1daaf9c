import { malformed } from '../../../core/index.ts';

/** A field-table value with its AMQP type tag, so it re-encodes exactly and compares with its type (RabbitMQ's rules). */
export type FieldValue =
  | { type: 't'; value: boolean }
  | { type: 'b' | 'B' | 's' | 'u' | 'I' | 'i' | 'f' | 'd'; value: number }
  | { type: 'l' | 'T'; value: bigint }
  | { type: 'D'; value: { scale: number; digits: number } }
  | { type: 'S' | 'x'; value: Buffer }
  | { type: 'A'; value: FieldValue[] }
  | { type: 'F'; value: FieldTable }
  | { type: 'V'; value: null };

export type FieldTable = Map<string, FieldValue>;

/** Nested tables and arrays deeper than this are refused: no recursion without a bound. */
const MAX_DEPTH = 64;

/** Reads a field table whose 4-byte size was already read: bytes [offset, end) of buf. */
export function decodeTable(buf: Buffer, offset: number, end: number, depth = 0): FieldTable {
  if (depth > MAX_DEPTH) throw malformed('field tables nested too deeply');
  const table: FieldTable = new Map();
  let at = offset;
  while (at < end) {
    const nameLength = buf[at]!;
    if (at + 1 + nameLength > end) throw malformed('field name runs past the table');
    const name = buf.toString('utf8', at + 1, at + 1 + nameLength);
    at += 1 + nameLength;
    const [value, next] = decodeValue(buf, at, end, depth);
    table.set(name, value);
    at = next;
  }
  return table;
}

function need(at: number, n: number, end: number): void {
  if (at + n > end) throw malformed('field value runs past the table');
}

function decodeValue(buf: Buffer, at: number, end: number, depth: number): [FieldValue, number] {
  need(at, 1, end);
  const type = String.fromCharCode(buf[at]!);
  at++;
  switch (type) {
    case 't':
      need(at, 1, end);
      return [{ type, value: buf[at] !== 0 }, at + 1];
    case 'b':
      need(at, 1, end);
      return [{ type, value: buf.readInt8(at) }, at + 1];
    case 'B':
      need(at, 1, end);
      return [{ type, value: buf.readUInt8(at) }, at + 1];
    case 's':
      need(at, 2, end);
      return [{ type, value: buf.readInt16BE(at) }, at + 2];
    case 'u':
      need(at, 2, end);
      return [{ type, value: buf.readUInt16BE(at) }, at + 2];
    case 'I':
      need(at, 4, end);
      return [{ type, value: buf.readInt32BE(at) }, at + 4];
    case 'i':
      need(at, 4, end);
      return [{ type, value: buf.readUInt32BE(at) }, at + 4];
    case 'l':
      need(at, 8, end);
      return [{ type, value: buf.readBigInt64BE(at) }, at + 8];
    case 'T':
      need(at, 8, end);
      return [{ type, value: buf.readBigUInt64BE(at) }, at + 8];
    case 'f':
      need(at, 4, end);
      return [{ type, value: buf.readFloatBE(at) }, at + 4];
    case 'd':
      need(at, 8, end);
      return [{ type, value: buf.readDoubleBE(at) }, at + 8];
    case 'D':
      need(at, 5, end);
      return [{ type, value: { scale: buf[at]!, digits: buf.readUInt32BE(at + 1) } }, at + 5];
    case 'S':
    case 'x': {
      need(at, 4, end);
      const length = buf.readUInt32BE(at);
      need(at + 4, length, end);
      return [{ type, value: buf.subarray(at + 4, at + 4 + length) }, at + 4 + length];
    }
    case 'A': {
      need(at, 4, end);
      const length = buf.readUInt32BE(at);
      const arrayEnd = at + 4 + length;
      need(at + 4, length, end);
      const values: FieldValue[] = [];
      for (let p = at + 4; p < arrayEnd; ) {
        if (depth + 1 > MAX_DEPTH) throw malformed('field arrays nested too deeply');
        const [value, next] = decodeValue(buf, p, arrayEnd, depth + 1);
        values.push(value);
        p = next;
      }
      return [{ type, value: values }, arrayEnd];
    }
    case 'F': {
      need(at, 4, end);
      const length = buf.readUInt32BE(at);
      need(at + 4, length, end);
      return [{ type, value: decodeTable(buf, at + 4, at + 4 + length, depth + 1) }, at + 4 + length];
    }
    case 'V':
      return [{ type, value: null }, at];
    default:
      throw malformed(`unknown field type ${JSON.stringify(type)}`);
  }
}

/** Bytes the table takes without its 4-byte size. */
export function tableSize(table: FieldTable): number {
  let size = 0;
  for (const [name, value] of table) size += 1 + Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(v: FieldValue): number {
  switch (v.type) {
    case 't':
    case 'b':
    case 'B':
      return 2;
    case 's':
    case 'u':
      return 3;
    case 'I':
    case 'i':
    case 'f':
      return 5;
    case 'l':
    case 'T':
    case 'd':
      return 9;
    case 'D':
      return 6;
    case 'S':
    case 'x':
      return 5 + v.value.length;
    case 'A':
      return 5 + v.value.reduce((n, e) => n + valueSize(e), 0);
    case 'F':
      return 5 + tableSize(v.value);
    case 'V':
      return 1;
  }
}

/** Writes the table (without its size) at `at`; returns the position after it. */
export function writeTable(buf: Buffer, at: number, table: FieldTable): number {
  for (const [name, value] of table) {
    const length = Buffer.byteLength(name);
    if (length > 255) throw malformed(`field name longer than 255 bytes: ${name.slice(0, 40)}`);
    buf[at] = length;
    at += 1 + buf.write(name, at + 1, 'utf8');
    at = writeValue(buf, at, value);
  }
  return at;
}

function writeValue(buf: Buffer, at: number, v: FieldValue): number {
  buf[at++] = v.type.charCodeAt(0);
  switch (v.type) {
    case 't':
      buf[at] = v.value ? 1 : 0;
      return at + 1;
    case 'b':
      return buf.writeInt8(v.value, at);
    case 'B':
      return buf.writeUInt8(v.value, at);
    case 's':
      return buf.writeInt16BE(v.value, at);
    case 'u':
      return buf.writeUInt16BE(v.value, at);
    case 'I':
      return buf.writeInt32BE(v.value, at);
    case 'i':
      return buf.writeUInt32BE(v.value, at);
    case 'f':
      return buf.writeFloatBE(v.value, at);
    case 'd':
      return buf.writeDoubleBE(v.value, at);
    case 'l':
      return buf.writeBigInt64BE(v.value, at);
    case 'T':
      return buf.writeBigUInt64BE(v.value, at);
    case 'D':
      buf[at] = v.value.scale;
      return buf.writeUInt32BE(v.value.digits, at + 1);
    case 'S':
    case 'x':
      buf.writeUInt32BE(v.value.length, at);
      return at + 4 + v.value.copy(buf, at + 4);
    case 'A': {
      const start = at + 4;
      let p = start;
      for (const e of v.value) p = writeValue(buf, p, e);
      buf.writeUInt32BE(p - start, at);
      return p;
    }
    case 'F': {
      const end = writeTable(buf, at + 4, v.value);
      buf.writeUInt32BE(end - at - 4, at);
      return end;
    }
    case 'V':
      return at;
  }
}

/** Builders for server-written tables. */
export const field = {
  string: (s: string): FieldValue => ({ type: 'S', value: Buffer.from(s, 'utf8') }),
  bool: (b: boolean): FieldValue => ({ type: 't', value: b }),
  int: (n: number): FieldValue => ({ type: 'I', value: n }),
  long: (n: number | bigint): FieldValue => ({ type: 'l', value: BigInt(n) }),
  timestamp: (seconds: number): FieldValue => ({ type: 'T', value: BigInt(seconds) }),
  table: (entries: Record<string, FieldValue>): FieldValue => ({ type: 'F', value: new Map(Object.entries(entries)) }),
  array: (values: FieldValue[]): FieldValue => ({ type: 'A', value: values }),
};

/** The text of a string-like field value, else undefined. */
export function fieldText(v: FieldValue | undefined): string | undefined {
  return v && (v.type === 'S' || v.type === 'x') ? v.value.toString('utf8') : undefined;
}

/** The value of an integer field of any width, signed or unsigned (RabbitMQ's integer argument types), else undefined. */
export function fieldInteger(v: FieldValue | undefined): bigint | undefined {
  if (!v) return undefined;
  switch (v.type) {
    case 'b':
    case 'B':
    case 's':
    case 'u':
    case 'I':
    case 'i':
      return BigInt(v.value);
    case 'l':
      return v.value;
    default:
      return undefined;
  }
}
