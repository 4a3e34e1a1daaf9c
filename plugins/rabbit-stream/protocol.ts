import { malformed } from '../../core/index.ts';

/** Command keys of the RabbitMQ Stream protocol (responses set the top bit). */
export const Command = {
  declarePublisher: 0x01,
  publish: 0x02,
  publishConfirm: 0x03,
  publishError: 0x04,
  queryPublisherSequence: 0x05,
  deletePublisher: 0x06,
  subscribe: 0x07,
  deliver: 0x08,
  credit: 0x09,
  storeOffset: 0x0a,
  queryOffset: 0x0b,
  unsubscribe: 0x0c,
  create: 0x0d,
  delete: 0x0e,
  metadata: 0x0f,
  metadataUpdate: 0x10,
  peerProperties: 0x11,
  saslHandshake: 0x12,
  saslAuthenticate: 0x13,
  tune: 0x14,
  open: 0x15,
  close: 0x16,
  heartbeat: 0x17,
  route: 0x18,
  partitions: 0x19,
  consumerUpdate: 0x1a,
  exchangeCommandVersions: 0x1b,
  streamStats: 0x1c,
  createSuperStream: 0x1d,
  deleteSuperStream: 0x1e,
} as const;

export const RESPONSE = 0x8000;

/** Response codes (rabbit_stream.hrl). */
export const Code = {
  ok: 0x01,
  streamDoesNotExist: 0x02,
  subscriptionIdAlreadyExists: 0x03,
  subscriptionIdDoesNotExist: 0x04,
  streamAlreadyExists: 0x05,
  streamNotAvailable: 0x06,
  saslMechanismNotSupported: 0x07,
  authenticationFailure: 0x08,
  saslError: 0x09,
  saslChallenge: 0x0a,
  authenticationFailureLoopback: 0x0b,
  vhostAccessFailure: 0x0c,
  unknownFrame: 0x0d,
  frameTooLarge: 0x0e,
  internalError: 0x0f,
  accessRefused: 0x10,
  preconditionFailed: 0x11,
  publisherDoesNotExist: 0x12,
  noOffset: 0x13,
} as const;

export const OffsetType = { first: 1, last: 2, next: 3, offset: 4, timestamp: 5 } as const;

/** The versions of each command this server speaks, as ExchangeCommandVersions announces them: [key, min, max]. */
export const SERVER_COMMAND_VERSIONS: ReadonlyArray<readonly [number, number, number]> = [
  [Command.declarePublisher, 1, 1],
  [Command.publish, 1, 2],
  [Command.queryPublisherSequence, 1, 1],
  [Command.deletePublisher, 1, 1],
  [Command.subscribe, 1, 1],
  [Command.deliver, 1, 2],
  [Command.credit, 1, 1],
  [Command.storeOffset, 1, 1],
  [Command.queryOffset, 1, 1],
  [Command.unsubscribe, 1, 1],
  [Command.create, 1, 1],
  [Command.delete, 1, 1],
  [Command.metadata, 1, 1],
  [Command.peerProperties, 1, 1],
  [Command.saslHandshake, 1, 1],
  [Command.saslAuthenticate, 1, 1],
  [Command.tune, 1, 1],
  [Command.open, 1, 1],
  [Command.close, 1, 1],
  [Command.heartbeat, 1, 1],
  [Command.route, 1, 1],
  [Command.partitions, 1, 1],
  [Command.exchangeCommandVersions, 1, 1],
  [Command.streamStats, 1, 1],
  [Command.createSuperStream, 1, 1],
  [Command.deleteSuperStream, 1, 1],
];

/** A bounds-checked reader over one frame; every failure is MALFORMED_INPUT. */
export class FrameReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
  ) {
    this.pos = start;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw malformed('stream frame truncated');
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  uint8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Steps over `n` bytes that must be there. */
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  uint64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** int16 length + UTF-8; null for -1. */
  string(): string | null {
    this.need(2);
    const length = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    if (length === -1) return null;
    if (length < 0) throw malformed('negative string length');
    this.need(length);
    const text = this.buf.toString('utf8', this.pos, this.pos + length);
    this.pos += length;
    return text;
  }

  /** A string that must be present. */
  text(): string {
    const s = this.string();
    if (s === null) throw malformed('null string');
    return s;
  }

  /** int32 length + bytes as a view; null for -1. */
  bytes(): Buffer | null {
    const length = this.int32();
    if (length === -1) return null;
    if (length < 0) throw malformed('negative bytes length');
    this.need(length);
    const view = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }

  /** An int32 array count, checked against what is left (each element takes at least `minBytes`). */
  count(minBytes: number): number {
    const n = this.int32();
    if (n < 0 || n * minBytes > this.remaining) throw malformed('array count out of range');
    return n;
  }

  /** [Key Value] string pairs. */
  properties(): Map<string, string> {
    const n = this.count(4);
    const map = new Map<string, string>();
    for (let i = 0; i < n; i++) map.set(this.text(), this.string() ?? '');
    return map;
  }
}

/** Builds one outgoing frame: the size prefix is patched by `finish`. */
export class FrameWriter {
  private buf: Buffer;
  private pos = 4;

  constructor(capacity = 64) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  uint8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  uint16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  uint64(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigUInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  int64(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  string(s: string | null): this {
    if (s === null) return this.uint16(0xffff);
    const length = Buffer.byteLength(s);
    this.ensure(2 + length);
    this.buf.writeUInt16BE(length, this.pos);
    this.pos += 2 + this.buf.write(s, this.pos + 2, 'utf8');
    return this;
  }

  bytes(b: Buffer | null): this {
    if (b === null) return this.int32(-1);
    this.int32(b.length);
    this.ensure(b.length);
    this.pos += b.copy(this.buf, this.pos);
    return this;
  }

  properties(map: ReadonlyMap<string, string>): this {
    this.int32(map.size);
    for (const [k, v] of map) this.string(k).string(v);
    return this;
  }

  finish(): Buffer {
    this.buf.writeUInt32BE(this.pos - 4, 0);
    return this.buf.subarray(0, this.pos);
  }
}

/** A response frame: key | 0x8000, version 1, correlation id, code. */
export function response(key: number, correlationId: number, code: number): FrameWriter {
  return new FrameWriter().uint16(key | RESPONSE).uint16(1).uint32(correlationId).uint16(code);
}
