import { gzipSync } from 'node:zlib';

/** Publish frames built by hand: simple entries and sub-entries (osiris entry types 0 and 1). */

/** An AMQP 1.0 message of one data section. */
export function amqpMessage(body: string | Buffer): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const head = Buffer.from([0x00, 0x53, 0x75, 0xb0, 0, 0, 0, 0]);
  head.writeUInt32BE(b.length, 4);
  return Buffer.concat([head, b]);
}

function publishingId(id: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(id));
  return b;
}

function sized(b: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32BE(b.length);
  return Buffer.concat([size, b]);
}

/** A v1 simple entry: publishing id, size, message. */
export function simpleEntry(id: number | bigint, body: string | Buffer): Buffer {
  return Buffer.concat([publishingId(id), sized(amqpMessage(body))]);
}

/** The fields of a sub-entry's header; each defaults to what the messages make. */
export interface SubEntryFields {
  typeByte?: number;
  count?: number;
  uncompressed?: number;
  data?: Buffer;
  dataLength?: number;
}

/** A v1 sub-entry of `bodies` (compression 0 none, 1 gzip), its header fields overridable. */
export function subEntry(id: number | bigint, compression: number, bodies: Array<string | Buffer>, fields: SubEntryFields = {}): Buffer {
  const inner = Buffer.concat(bodies.map((b) => sized(amqpMessage(b))));
  const data = fields.data ?? (compression === 1 ? gzipSync(inner) : inner);
  const head = Buffer.alloc(11);
  head[0] = fields.typeByte ?? 0x80 | (compression << 4);
  head.writeUInt16BE(fields.count ?? bodies.length, 1);
  head.writeUInt32BE(fields.uncompressed ?? inner.length, 3);
  head.writeUInt32BE(fields.dataLength ?? data.length, 7);
  return Buffer.concat([publishingId(id), head, data]);
}

/** A Publish frame body (key 2, `version`) of `entries` for `publisherId`. */
export function publishFrame(publisherId: number, entries: Buffer[], version = 1): Buffer {
  const head = Buffer.alloc(9);
  head.writeUInt16BE(0x02, 0);
  head.writeUInt16BE(version, 2);
  head[4] = publisherId;
  head.writeInt32BE(entries.length, 5);
  return Buffer.concat([head, ...entries]);
}
