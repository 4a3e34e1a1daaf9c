import { malformed } from '../errors.ts';
import { Section, variableHeaderSize, writeVariableHeader } from './amqp10.ts';
import { HEADER, isReservedName, nameIs, SECTION_HEADERS } from './stream-headers.ts';

// Where each kept section's header value lies in the record being encoded: [start, end) pairs, -1 when absent.
const KEPT = SECTION_HEADERS.length;
const TYPED_APP = KEPT; // x-amqp-application-properties
const SLOTS = KEPT + 1;

/**
 * Encodes stored records as AMQP 1.0 messages (the stream protocol's entries) by the shared mapping of
 * stream-headers.ts, straight into an output buffer: `measure` a record, then `write` it. Reads the
 * record's varints in place: no object per record.
 */
export class StreamEntryEncoder {
  private readonly ranges = new Int32Array(SLOTS * 2);
  private pos = 0;
  // The record measured last.
  private valueStart = 0;
  private valueEnd = 0;
  private verbatim = false;
  private marked = false;
  private headersAt = 0;
  private headerCount = 0;
  private plainCount = 0;
  private plainBytes = 0;
  private recordEnd = 0;
  private size = 0;

  /**
   * Measures the record whose encoding (after its length varint) is `buf[start, end)`; returns the AMQP
   * 1.0 message's size. CORRUPT on a record that does not parse.
   */
  measure(buf: Buffer, start: number, end: number): number {
    const r = this.ranges;
    r.fill(-1);
    this.pos = start + 1; // attributes
    this.varint(buf, end); // timestamp delta
    this.varint(buf, end); // offset delta
    const keyLength = this.varint(buf, end);
    if (keyLength > 0) this.skip(keyLength, end);
    const valueLength = this.varint(buf, end);
    this.valueStart = this.pos;
    if (valueLength > 0) this.skip(valueLength, end);
    this.valueEnd = this.pos;
    const count = this.varint(buf, end);
    this.headersAt = this.pos;
    this.headerCount = count;
    this.verbatim = false;
    this.marked = false;
    this.plainCount = 0;
    this.plainBytes = 0;
    let size = 0;
    for (let i = 0; i < count; i++) {
      const keyLen = this.varint(buf, end);
      const keyStart = this.pos;
      this.skip(keyLen, end);
      const valueLen = this.varint(buf, end);
      const valueStart = this.pos;
      if (valueLen > 0) this.skip(valueLen, end);
      if (!isReservedName(buf, keyStart, keyStart + keyLen)) {
        this.plainCount++;
        this.plainBytes += variableHeaderSize(keyLen) + keyLen + variableHeaderSize(Math.max(valueLen, 0)) + Math.max(valueLen, 0);
        continue;
      }
      const slot = reservedSlot(buf, keyStart, keyStart + keyLen);
      if (slot === TYPED_APP && (valueLen < 9 || buf[valueStart] !== 0xd1)) continue;
      if (slot >= 0) {
        r[slot * 2] = valueStart;
        r[slot * 2 + 1] = valueStart + Math.max(valueLen, 0);
        if (slot < KEPT) size += valueLen;
      } else if (nameIs(buf, keyStart, keyStart + keyLen, HEADER.body)) this.verbatim = true;
      else if (nameIs(buf, keyStart, keyStart + keyLen, HEADER.subEntry)) this.marked = true;
    }
    this.recordEnd = this.pos;
    if (this.plainCount > 0 || r[TYPED_APP * 2]! >= 0) {
      size += 3 + 9 + this.plainBytes + (r[TYPED_APP * 2]! >= 0 ? r[TYPED_APP * 2 + 1]! - r[TYPED_APP * 2]! - 9 : 0);
    }
    const bodyLength = this.valueEnd - this.valueStart;
    size += this.verbatim ? bodyLength : 3 + variableHeaderSize(bodyLength) + bodyLength;
    this.size = size;
    return size;
  }

  /** Writes the message `measure` sized into `out` at `pos`; returns the position after it. */
  write(buf: Buffer, out: Buffer, pos: number): number {
    const r = this.ranges;
    // header, delivery-annotations, message-annotations, properties
    for (let s = 0; s < KEPT - 1; s++) if (r[s * 2]! >= 0) pos += buf.copy(out, pos, r[s * 2]!, r[s * 2 + 1]!);
    const typedStart = r[TYPED_APP * 2]!;
    if (this.plainCount > 0 || typedStart >= 0) {
      const typedBytes = typedStart >= 0 ? r[TYPED_APP * 2 + 1]! - typedStart - 9 : 0;
      const typedCount = typedStart >= 0 ? buf.readUInt32BE(typedStart + 5) : 0;
      out[pos] = 0;
      out[pos + 1] = 0x53;
      out[pos + 2] = Section.applicationProperties;
      out[pos + 3] = 0xd1;
      out.writeUInt32BE(4 + this.plainBytes + typedBytes, pos + 4);
      out.writeUInt32BE(this.plainCount * 2 + typedCount, pos + 8);
      pos += 12;
      this.pos = this.headersAt;
      for (let i = 0; i < this.headerCount; i++) {
        const keyLen = this.varint(buf, this.recordEnd);
        const keyStart = this.pos;
        this.pos += keyLen;
        const valueLen = this.varint(buf, this.recordEnd);
        const valueStart = this.pos;
        if (valueLen > 0) this.pos += valueLen;
        if (isReservedName(buf, keyStart, keyStart + keyLen)) continue;
        pos = writeVariableHeader(out, pos, keyLen, 'string');
        pos += buf.copy(out, pos, keyStart, keyStart + keyLen);
        const length = Math.max(valueLen, 0);
        pos = writeVariableHeader(out, pos, length, 'string');
        pos += buf.copy(out, pos, valueStart, valueStart + length);
      }
      if (typedStart >= 0) pos += buf.copy(out, pos, typedStart + 9, r[TYPED_APP * 2 + 1]!);
    }
    if (!this.verbatim) {
      out[pos] = 0;
      out[pos + 1] = 0x53;
      out[pos + 2] = Section.data;
      pos = writeVariableHeader(out, pos + 3, this.valueEnd - this.valueStart, 'binary');
    }
    pos += buf.copy(out, pos, this.valueStart, this.valueEnd);
    // footer
    if (r[(KEPT - 1) * 2]! >= 0) pos += buf.copy(out, pos, r[(KEPT - 1) * 2]!, r[(KEPT - 1) * 2 + 1]!);
    return pos;
  }

  /** Whether the record measured last begins a sub-entry batch (`x-amqp-sub-entry`). */
  get beginsSubEntry(): boolean {
    return this.marked;
  }

  /** The size `measure` returned last. */
  get measured(): number {
    return this.size;
  }

  private varint(buf: Buffer, end: number): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw malformed('record varint runs past the end');
      const byte = buf[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      scale *= 128;
    }
    throw malformed('record varint too long');
  }

  private skip(length: number, end: number): void {
    if (length < 0 || this.pos + length > end) throw malformed('record field runs past the end');
    this.pos += length;
  }
}

function reservedSlot(buf: Buffer, start: number, end: number): number {
  for (let s = 0; s < KEPT; s++) if (nameIs(buf, start, end, SECTION_HEADERS[s]!)) return s;
  return nameIs(buf, start, end, HEADER.applicationProperties) ? TYPED_APP : -1;
}
