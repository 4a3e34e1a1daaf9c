import { malformed, STREAM_HEADERS, type RecordHeader } from '../../../core/index.ts';
import { encodePropertiesBytes, type BasicProperties, type FieldTable, type FieldValue } from '../codec/index.ts';
import { encodeMessageKey } from './stored-message.ts';

/**
 * AMQP 0-9-1 messages in a stream, converted as RabbitMQ 3.10 does (rabbit_msg_record): a published message
 * becomes an AMQP 1.0 message (which core's stream mapping stores as a record) with the exchange, routing
 * key, priority, delivery mode and expiration as message annotations, the id, user, reply-to, correlation,
 * content type and encoding and timestamp as properties, the headers plus type and app-id as application
 * properties and the body as one data section; a record read back becomes a delivery with those again.
 */

const SECTION_PROPERTIES = 0x73;
const SECTION_MESSAGE_ANNOTATIONS = 0x72;
const SECTION_APPLICATION_PROPERTIES = 0x74;
const SECTION_DATA = 0x75;

/** The AMQP 1.0 encoding of a message published to `exchange` with `routingKey`. */
export function amqp10MessageOf(exchange: string, routingKey: string, p: Readonly<BasicProperties>, body: Buffer): Buffer {
  const w = new Amqp10Writer(body.length + 256);
  w.described(SECTION_MESSAGE_ANNOTATIONS);
  w.map(() => {
    let count = 0;
    const entry = (key: string, write: () => void) => {
      w.symbol(key);
      write();
      count += 2;
    };
    entry('x-exchange', () => w.string(exchange));
    entry('x-routing-key', () => w.string(routingKey));
    if (p.expiration !== undefined) entry('x-basic-expiration', () => w.string(p.expiration!));
    if (p.deliveryMode !== undefined) entry('x-basic-delivery-mode', () => w.ubyte(p.deliveryMode!));
    if (p.priority !== undefined) entry('x-basic-priority', () => w.ubyte(p.priority!));
    return count;
  });
  const fields: Array<(() => void) | undefined> = [
    p.messageId === undefined ? undefined : () => w.string(p.messageId!),
    p.userId === undefined ? undefined : () => w.binary(Buffer.from(p.userId!)),
    undefined, // to
    undefined, // subject
    p.replyTo === undefined ? undefined : () => w.string(p.replyTo!),
    p.correlationId === undefined ? undefined : () => w.string(p.correlationId!),
    p.contentType === undefined ? undefined : () => w.symbol(p.contentType!),
    p.contentEncoding === undefined ? undefined : () => w.symbol(p.contentEncoding!),
    undefined, // absolute-expiry-time
    p.timestamp === undefined ? undefined : () => w.timestamp(p.timestamp! * 1000),
  ];
  while (fields.length > 0 && fields[fields.length - 1] === undefined) fields.pop();
  if (fields.length > 0) {
    w.described(SECTION_PROPERTIES);
    w.list(() => {
      for (const field of fields) field ? field() : w.null();
      return fields.length;
    });
  }
  const headers = p.headers === undefined ? [] : [...p.headers].filter(([, v]) => v.type !== 'A' && v.type !== 'F' && v.type !== 'V' && v.type !== 'D');
  if (headers.length > 0 || p.type !== undefined || p.appId !== undefined) {
    w.described(SECTION_APPLICATION_PROPERTIES);
    w.map(() => {
      if (p.appId !== undefined) w.string('x-basic-app-id').string(p.appId);
      if (p.type !== undefined) w.string('x-basic-type').string(p.type);
      for (const [name, value] of headers) {
        w.string(name);
        w.field(value);
      }
      return 2 * (headers.length + (p.appId === undefined ? 0 : 1) + (p.type === undefined ? 0 : 1));
    });
  }
  w.described(SECTION_DATA);
  w.binary(body);
  return w.done();
}

/** What a delivery needs from a stream record: the stored-message key (routing and properties). */
export function streamDeliveryKey(queue: string, offset: number, headers: readonly RecordHeader[]): Buffer {
  const p: BasicProperties = {};
  const table: FieldTable = new Map();
  let exchange = '';
  let routingKey = queue;
  for (const { key, value } of headers) {
    if (value === null) continue;
    if (key === PROPERTIES) readProperties(value, p);
    else if (key === MESSAGE_ANNOTATIONS) {
      forEachMapEntry(value, sectionValueAt(value), (name, v) => {
        if (name === 'x-exchange' && typeof v === 'string') exchange = v;
        else if (name === 'x-routing-key' && typeof v === 'string') routingKey = v;
        else if (name === 'x-basic-expiration' && typeof v === 'string') p.expiration = v;
        else if (name === 'x-basic-delivery-mode' && typeof v === 'number') p.deliveryMode = v;
        else if (name === 'x-basic-priority' && typeof v === 'number') p.priority = v;
      });
    } else if (key === APPLICATION_PROPERTIES) {
      forEachMapEntry(value, 0, (name, _plain, field) => {
        if (field) table.set(name, field);
      });
    } else if (!key.startsWith('x-amqp-')) {
      if (key === 'x-basic-app-id') p.appId = value.toString('utf8');
      else if (key === 'x-basic-type') p.type = value.toString('utf8');
      else table.set(key, { type: 'S', value });
    }
  }
  table.set('x-stream-offset', { type: 'l', value: BigInt(offset) });
  p.headers = table;
  return encodeMessageKey({ exchange, routingKey, properties: encodePropertiesBytes(p), persistent: p.deliveryMode === 2, priority: p.priority ?? 0, expiresAt: -1 });
}

const PROPERTIES = STREAM_HEADERS.properties.toString();
const MESSAGE_ANNOTATIONS = STREAM_HEADERS.messageAnnotations.toString();
const APPLICATION_PROPERTIES = STREAM_HEADERS.applicationProperties.toString();

/** Where the value of a described section starts (after `0x00 0x53 code` or `0x00 0x80 <ulong>`). */
function sectionValueAt(buf: Buffer): number {
  if (buf[0] !== 0) throw malformed('not an AMQP 1.0 section');
  return buf[1] === 0x53 ? 3 : 10;
}

function readProperties(buf: Buffer, p: BasicProperties): void {
  const r = new Amqp10Reader(buf, sectionValueAt(buf));
  const count = r.compoundHeader(0xc0, 0xd0);
  for (let i = 0; i < count; i++) {
    const v = r.value();
    if (v === undefined) continue;
    const text = typeof v.plain === 'string' ? v.plain : Buffer.isBuffer(v.plain) ? v.plain.toString('utf8') : undefined;
    if (i === 0 && text !== undefined) p.messageId = text;
    else if (i === 1 && text !== undefined) p.userId = text;
    else if (i === 4 && text !== undefined) p.replyTo = text;
    else if (i === 5 && text !== undefined) p.correlationId = text;
    else if (i === 6 && text !== undefined) p.contentType = text;
    else if (i === 7 && text !== undefined) p.contentEncoding = text;
    else if (i === 9 && typeof v.plain === 'number') p.timestamp = Math.trunc(v.plain / 1000);
  }
}

function forEachMapEntry(buf: Buffer, at: number, visit: (key: string, value: string | number | boolean | Buffer | undefined, field: FieldValue | undefined) => void): void {
  const r = new Amqp10Reader(buf, at);
  const count = r.compoundHeader(0xc1, 0xd1);
  for (let i = 0; i + 1 < count; i += 2) {
    const key = r.value();
    const value = r.value();
    if (key && typeof key.plain === 'string') visit(key.plain, value?.plain, value?.field);
  }
}

interface Amqp10Value {
  plain: string | number | boolean | Buffer | undefined;
  /** The value as an AMQP 0-9-1 header, when it has one. */
  field: FieldValue | undefined;
}

/** Reads the AMQP 1.0 primitive values RabbitMQ writes into properties and maps (bounds-checked). */
class Amqp10Reader {
  constructor(
    private readonly buf: Buffer,
    private pos: number,
  ) {}

  compoundHeader(small: number, large: number): number {
    const code = this.byte();
    if (code === 0x45) return 0; // list0
    if (code === small) {
      this.need(2);
      const count = this.buf[this.pos + 1]!;
      this.pos += 2;
      return count;
    }
    if (code === large) {
      this.need(8);
      const count = this.buf.readUInt32BE(this.pos + 4);
      this.pos += 8;
      return count;
    }
    throw malformed(`AMQP 1.0 compound 0x${code.toString(16)}`);
  }

  value(): Amqp10Value | undefined {
    const code = this.byte();
    const b = this.buf;
    const at = this.pos;
    const fixed = (size: number) => {
      this.need(size);
      this.pos += size;
    };
    switch (code) {
      case 0x40:
        return undefined;
      case 0x41:
        return { plain: true, field: { type: 't', value: true } };
      case 0x42:
        return { plain: false, field: { type: 't', value: false } };
      case 0x56:
        fixed(1);
        return { plain: b[at] === 1, field: { type: 't', value: b[at] === 1 } };
      case 0x43:
      case 0x44:
        return { plain: 0, field: { type: 'l', value: 0n } };
      case 0x50:
        fixed(1);
        return { plain: b[at]!, field: { type: 'B', value: b[at]! } };
      case 0x51:
        fixed(1);
        return { plain: b.readInt8(at), field: { type: 'b', value: b.readInt8(at) } };
      case 0x52:
        fixed(1);
        return { plain: b[at]!, field: { type: 'l', value: BigInt(b[at]!) } };
      case 0x53:
        fixed(1);
        return { plain: b[at]!, field: { type: 'l', value: BigInt(b[at]!) } };
      case 0x54:
        fixed(1);
        return { plain: b.readInt8(at), field: { type: 'I', value: b.readInt8(at) } };
      case 0x55:
        fixed(1);
        return { plain: b.readInt8(at), field: { type: 'l', value: BigInt(b.readInt8(at)) } };
      case 0x60:
        fixed(2);
        return { plain: b.readUInt16BE(at), field: { type: 'u', value: b.readUInt16BE(at) } };
      case 0x61:
        fixed(2);
        return { plain: b.readInt16BE(at), field: { type: 's', value: b.readInt16BE(at) } };
      case 0x70:
        fixed(4);
        return { plain: b.readUInt32BE(at), field: { type: 'l', value: BigInt(b.readUInt32BE(at)) } };
      case 0x71:
        fixed(4);
        return { plain: b.readInt32BE(at), field: { type: 'I', value: b.readInt32BE(at) } };
      case 0x72:
        fixed(4);
        return { plain: b.readFloatBE(at), field: { type: 'f', value: b.readFloatBE(at) } };
      case 0x80:
        fixed(8);
        return { plain: Number(b.readBigUInt64BE(at)), field: { type: 'l', value: BigInt.asIntN(64, b.readBigUInt64BE(at)) } };
      case 0x81:
        fixed(8);
        return { plain: Number(b.readBigInt64BE(at)), field: { type: 'l', value: b.readBigInt64BE(at) } };
      case 0x82:
        fixed(8);
        return { plain: b.readDoubleBE(at), field: { type: 'd', value: b.readDoubleBE(at) } };
      case 0x83:
        fixed(8);
        return { plain: Number(b.readBigInt64BE(at)), field: { type: 'T', value: b.readBigInt64BE(at) / 1000n } };
      case 0xa0:
      case 0xa1:
      case 0xa3:
      case 0xb0:
      case 0xb1:
      case 0xb3: {
        const small = code < 0xb0;
        this.need(small ? 1 : 4);
        const length = small ? b[at]! : b.readUInt32BE(at);
        const start = at + (small ? 1 : 4);
        this.pos = start;
        fixed(length);
        const bytes = b.subarray(start, start + length);
        if ((code & 0x0f) === 0) return { plain: bytes, field: { type: 'x', value: bytes } };
        return { plain: bytes.toString('utf8'), field: { type: 'S', value: bytes } };
      }
      default: {
        // Something RabbitMQ's 0-9-1 conversion drops (a compound, a uuid, a described value): skipped.
        this.pos = at - 1;
        this.skip();
        return { plain: undefined, field: undefined };
      }
    }
  }

  private skip(): void {
    const code = this.byte();
    const width = code >> 4;
    const fixedSizes: Record<number, number> = { 0x4: 0, 0x5: 1, 0x6: 2, 0x7: 4, 0x8: 8, 0x9: 16 };
    if (code === 0) {
      this.skip();
      this.skip();
      return;
    }
    const size = fixedSizes[width];
    if (size !== undefined) {
      this.need(size);
      this.pos += size;
      return;
    }
    const small = width === 0xa || width === 0xc || width === 0xe;
    this.need(small ? 1 : 4);
    const length = small ? this.buf[this.pos]! : this.buf.readUInt32BE(this.pos);
    this.pos += small ? 1 : 4;
    this.need(length);
    this.pos += length;
  }

  private byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw malformed('AMQP 1.0 value runs past the end');
  }
}

/** Writes AMQP 1.0 values into one growing buffer. */
class Amqp10Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  done(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  described(code: number): this {
    this.ensure(3);
    this.buf[this.pos++] = 0;
    this.buf[this.pos++] = 0x53;
    this.buf[this.pos++] = code;
    return this;
  }

  /** A map32 whose entries `write` adds, returning their element count. */
  map(write: () => number): this {
    return this.compound(0xd1, write);
  }

  list(write: () => number): this {
    return this.compound(0xd0, write);
  }

  private compound(code: number, write: () => number): this {
    this.ensure(9);
    const at = this.pos;
    this.buf[at] = code;
    this.pos += 9;
    const count = write();
    this.buf.writeUInt32BE(this.pos - at - 5, at + 1);
    this.buf.writeUInt32BE(count, at + 5);
    return this;
  }

  string(text: string): this {
    return this.variable(0xa1, 0xb1, Buffer.from(text, 'utf8'));
  }

  symbol(text: string): this {
    return this.variable(0xa3, 0xb3, Buffer.from(text, 'utf8'));
  }

  binary(bytes: Buffer): this {
    return this.variable(0xa0, 0xb0, bytes);
  }

  null(): this {
    return this.byte(0x40);
  }

  ubyte(n: number): this {
    return this.byte(0x50).byte(n & 0xff);
  }

  timestamp(ms: number): this {
    this.ensure(9);
    this.buf[this.pos] = 0x83;
    this.buf.writeBigInt64BE(BigInt(Math.trunc(ms)), this.pos + 1);
    this.pos += 9;
    return this;
  }

  /** An AMQP 0-9-1 header value (tables, arrays, decimals and void are dropped before). */
  field(v: FieldValue): this {
    this.ensure(9);
    const b = this.buf;
    const at = this.pos;
    switch (v.type) {
      case 't':
        return this.byte(v.value ? 0x41 : 0x42);
      case 'b':
        b[at] = 0x51;
        b.writeInt8(v.value, at + 1);
        this.pos += 2;
        return this;
      case 'B':
        return this.ubyte(v.value);
      case 's':
        b[at] = 0x61;
        b.writeInt16BE(v.value, at + 1);
        this.pos += 3;
        return this;
      case 'u':
        b[at] = 0x60;
        b.writeUInt16BE(v.value, at + 1);
        this.pos += 3;
        return this;
      case 'I':
        b[at] = 0x71;
        b.writeInt32BE(v.value, at + 1);
        this.pos += 5;
        return this;
      case 'i':
        b[at] = 0x70;
        b.writeUInt32BE(v.value >>> 0, at + 1);
        this.pos += 5;
        return this;
      case 'f':
        b[at] = 0x72;
        b.writeFloatBE(v.value, at + 1);
        this.pos += 5;
        return this;
      case 'd':
        b[at] = 0x82;
        b.writeDoubleBE(v.value, at + 1);
        this.pos += 9;
        return this;
      case 'l':
        b[at] = 0x81;
        b.writeBigInt64BE(BigInt.asIntN(64, v.value), at + 1);
        this.pos += 9;
        return this;
      case 'T':
        return this.timestamp(Number(v.value) * 1000);
      case 'S':
        return this.variable(0xa1, 0xb1, v.value);
      case 'x':
        return this.variable(0xa0, 0xb0, v.value);
      default:
        return this.null();
    }
  }

  private byte(n: number): this {
    this.ensure(1);
    this.buf[this.pos++] = n;
    return this;
  }

  private variable(small: number, large: number, bytes: Buffer): this {
    this.ensure(5 + bytes.length);
    if (bytes.length <= 255) {
      this.buf[this.pos] = small;
      this.buf[this.pos + 1] = bytes.length;
      this.pos += 2;
    } else {
      this.buf[this.pos] = large;
      this.buf.writeUInt32BE(bytes.length, this.pos + 1);
      this.pos += 5;
    }
    this.pos += bytes.copy(this.buf, this.pos);
    return this;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}
