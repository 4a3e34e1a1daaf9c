import { BrokerError, malformed } from '../../../core/index.ts';
import { AmqpWriter } from './amqp-writer.ts';
import { decodeMethod, encodeMethod, encodeProperties, type AmqpMethod, type BasicProperties, type MethodArgs, type MethodName } from './generated/methods.ts';

export const FrameType = { method: 1, header: 2, body: 3, heartbeat: 8 } as const;
export const FRAME_END = 0xce;
/** type (1) + channel (2) + size (4) before the payload, frame-end (1) after. */
export const FRAME_OVERHEAD = 8;
export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
export const BASIC_CLASS = 60;

export interface Frame {
  type: number;
  channel: number;
  /** A view of the payload. */
  payload: Buffer;
}

export type FrameHandler = (type: number, channel: number, payload: Buffer) => void;

/**
 * Splits a byte stream into frames, handed to `onFrame` as they complete (payloads are views). The size
 * is checked against frame_max before anything waits or allocates; a frame over it, or a bad frame-end
 * octet, is FRAME_TOO_LARGE / MALFORMED_INPUT (501), thrown after the frames before it were handled.
 */
export class FrameParser {
  /** A frame spanning chunks: its bytes so far (header first), and how many of them are filled. */
  private partial: Buffer | undefined;
  private filled = 0;
  private readonly head = Buffer.alloc(7);
  private headFilled = 0;

  constructor(
    public frameMax: number,
    private readonly onFrame: FrameHandler,
  ) {}

  push(chunk: Buffer): void {
    let at = 0;
    if (this.partial || this.headFilled > 0) at = this.continuePartial(chunk);
    while (at < chunk.length) {
      if (chunk.length - at < 7) {
        this.headFilled = chunk.copy(this.head, 0, at);
        break;
      }
      const total = this.frameLength(chunk.readUInt32BE(at + 3));
      if (chunk.length - at < total) {
        this.partial = Buffer.allocUnsafe(total);
        this.filled = chunk.copy(this.partial, 0, at);
        break;
      }
      this.emit(chunk, at, total);
      at += total;
    }
  }

  get buffered(): number {
    return this.partial ? this.filled : this.headFilled;
  }

  private continuePartial(chunk: Buffer): number {
    let at = 0;
    if (!this.partial) {
      at = chunk.copy(this.head, this.headFilled, 0, 7 - this.headFilled);
      this.headFilled += at;
      if (this.headFilled < 7) return chunk.length;
      this.partial = Buffer.allocUnsafe(this.frameLength(this.head.readUInt32BE(3)));
      this.filled = this.head.copy(this.partial, 0);
      this.headFilled = 0;
    }
    const n = chunk.copy(this.partial, this.filled, at, at + this.partial.length - this.filled);
    this.filled += n;
    at += n;
    if (this.filled === this.partial.length) {
      const whole = this.partial;
      this.partial = undefined;
      this.emit(whole, 0, whole.length);
    }
    return at;
  }

  private frameLength(size: number): number {
    if (size + FRAME_OVERHEAD > this.frameMax) {
      throw new BrokerError('FRAME_TOO_LARGE', `frame of ${size + FRAME_OVERHEAD} bytes exceeds frame_max ${this.frameMax}`);
    }
    return size + FRAME_OVERHEAD;
  }

  private emit(buf: Buffer, at: number, total: number): void {
    if (buf[at + total - 1] !== FRAME_END) throw malformed(`invalid frame end marker ${buf[at + total - 1]}`);
    this.onFrame(buf[at]!, (buf[at + 1]! << 8) | buf[at + 2]!, buf.subarray(at + 7, at + total - 1));
  }
}

/** Checks the 8-byte protocol header; returns false for anything else (the server answers with its own and closes). */
export function isProtocolHeader(bytes: Buffer): boolean {
  return bytes.length >= 8 && bytes.subarray(0, 8).equals(PROTOCOL_HEADER);
}

export function parseMethod(payload: Buffer): AmqpMethod {
  return decodeMethod(payload);
}

/** A whole method frame. */
export function methodFrame<K extends MethodName>(channel: number, name: K, args: MethodArgs[K]): Buffer {
  const w = new AmqpWriter(64, 7);
  encodeMethod(w, name, args);
  return seal(w, FrameType.method, channel);
}

export const HEARTBEAT_FRAME = Buffer.from([FrameType.heartbeat, 0, 0, 0, 0, 0, 0, FRAME_END]);

/** The property section of a content header (flags and values), as stored beside a message. */
export function encodePropertiesBytes(properties: BasicProperties): Buffer {
  const w = new AmqpWriter(64);
  encodeProperties(w, properties);
  return w.buf.subarray(0, w.pos);
}

/**
 * The frames of a content-carrying method: method frame, content header around already-encoded
 * property bytes, and body frames whose payloads are views of `body` (only frame headers and ends are new).
 */
export function contentFrames<K extends MethodName>(channel: number, name: K, args: MethodArgs[K], properties: Buffer, body: Buffer, frameMax: number): Buffer[] {
  const w = new AmqpWriter(64 + properties.length + 7 + 14, 7);
  encodeMethod(w, name, args);
  const methodEnd = w.pos;
  w.buf[w.pos] = FRAME_END;
  w.pos += 1;
  const headerStart = w.pos;
  w.reserve(7);
  w.short(BASIC_CLASS);
  w.short(0);
  w.longlong(body.length);
  const propsAt = w.reserve(properties.length);
  properties.copy(w.buf, propsAt);
  const headerEnd = w.pos;
  w.reserve(1);
  const head = w.buf;
  writeFrameHeader(head, 0, FrameType.method, channel, methodEnd - 7);
  writeFrameHeader(head, headerStart, FrameType.header, channel, headerEnd - headerStart - 7);
  head[headerEnd] = FRAME_END;
  return withBodyFrames([head.subarray(0, headerEnd + 1)], channel, body, frameMax);
}

/** Appends body frames whose payloads are views of `body` (only frame headers and ends are new). */
function withBodyFrames(chunks: Buffer[], channel: number, body: Buffer, frameMax: number): Buffer[] {
  const maxPayload = frameMax - FRAME_OVERHEAD;
  for (let at = 0; at < body.length; at += maxPayload) {
    const piece = body.subarray(at, Math.min(body.length, at + maxPayload));
    const frameHead = Buffer.allocUnsafe(7);
    writeFrameHeader(frameHead, 0, FrameType.body, channel, piece.length);
    chunks.push(frameHead, piece, FRAME_END_BYTE);
  }
  return chunks;
}

const FRAME_END_BYTE = Buffer.from([FRAME_END]);
const BASIC_DELIVER = 60;

/** Where frames are encoded: `room(n)` gives a buffer with n free bytes at `pos`; `add` takes a finished piece. */
export interface FrameSink {
  pos: number;
  room(n: number): Buffer;
  add(bytes: Buffer): void;
}

/** Bodies below this size are encoded into the sink's buffer; larger ones are added as views of the stored bytes. */
const INLINE_BODY_BYTES = 2048;

/**
 * basic.deliver's frames encoded into `sink`. `stored` holds the exchange and routing-key shortstrs at
 * [routingAt, propertiesAt) and the property bytes from propertiesAt to its end; they are copied as they
 * are: nothing is decoded to strings and encoded back per delivery.
 */
export function writeDeliver(sink: FrameSink, channel: number, consumerTag: Buffer, deliveryTag: number, redelivered: boolean, stored: Buffer, routingAt: number, propertiesAt: number, body: Buffer, frameMax: number): void {
  const methodSize = 4 + 1 + consumerTag.length + 8 + 1 + propertiesAt - routingAt;
  const headerSize = 12 + stored.length - propertiesAt;
  const inline = body.length > 0 && body.length < INLINE_BODY_BYTES && body.length <= frameMax - FRAME_OVERHEAD;
  const size = 7 + methodSize + 1 + 7 + headerSize + 1 + (inline ? 7 + body.length + 1 : 0);
  const buf = sink.room(size);
  let at = sink.pos;
  writeFrameHeader(buf, at, FrameType.method, channel, methodSize);
  at += 7;
  buf[at] = 0;
  buf[at + 1] = BASIC_CLASS;
  buf[at + 2] = 0;
  buf[at + 3] = BASIC_DELIVER;
  at += 4;
  buf[at++] = consumerTag.length;
  at += consumerTag.copy(buf, at);
  at = writeUint64(buf, at, deliveryTag);
  buf[at++] = redelivered ? 1 : 0;
  at += stored.copy(buf, at, routingAt, propertiesAt);
  buf[at++] = FRAME_END;
  writeFrameHeader(buf, at, FrameType.header, channel, headerSize);
  at += 7;
  buf[at] = 0;
  buf[at + 1] = BASIC_CLASS;
  buf[at + 2] = 0;
  buf[at + 3] = 0;
  at = writeUint64(buf, at + 4, body.length);
  at += stored.copy(buf, at, propertiesAt);
  buf[at++] = FRAME_END;
  if (inline) {
    writeFrameHeader(buf, at, FrameType.body, channel, body.length);
    at += 7;
    at += body.copy(buf, at);
    buf[at++] = FRAME_END;
  }
  sink.pos = at;
  if (!inline) writeBodyFrames(sink, channel, body, frameMax);
}

/** Body frames into `sink`: frame headers and ends encoded, payload pieces added as views of `body`. */
function writeBodyFrames(sink: FrameSink, channel: number, body: Buffer, frameMax: number): void {
  const maxPayload = frameMax - FRAME_OVERHEAD;
  for (let at = 0; at < body.length; at += maxPayload) {
    const piece = body.subarray(at, Math.min(body.length, at + maxPayload));
    writeFrameHeader(sink.room(7), sink.pos, FrameType.body, channel, piece.length);
    sink.pos += 7;
    sink.add(piece);
    sink.room(1)[sink.pos++] = FRAME_END;
  }
}

/** A non-negative integer below 2^53 as an unsigned 64-bit big-endian value, without BigInt. */
function writeUint64(buf: Buffer, at: number, n: number): number {
  const high = Math.floor(n / 0x1_0000_0000);
  buf.writeUInt32BE(high, at);
  buf.writeUInt32BE(n - high * 0x1_0000_0000, at + 4);
  return at + 8;
}

export interface ContentHeader {
  classId: number;
  bodySize: number;
  /** A view of the property flags and values. */
  properties: Buffer;
}

export function parseContentHeader(payload: Buffer): ContentHeader {
  if (payload.length < 14) throw malformed('content header too short');
  const bodySize = payload.readUInt32BE(4) * 0x1_0000_0000 + payload.readUInt32BE(8);
  return { classId: payload.readUInt16BE(0), bodySize, properties: payload.subarray(12) };
}

function writeFrameHeader(buf: Buffer, at: number, type: number, channel: number, size: number): void {
  buf[at] = type;
  buf.writeUInt16BE(channel, at + 1);
  buf.writeUInt32BE(size, at + 3);
}

function seal(w: AmqpWriter, type: number, channel: number): Buffer {
  const size = w.pos - 7;
  w.reserve(1);
  writeFrameHeader(w.buf, 0, type, channel, size);
  w.buf[w.pos - 1] = FRAME_END;
  return w.buf.subarray(0, w.pos);
}
