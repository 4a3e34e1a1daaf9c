import { gzipSync } from 'node:zlib';
import { Compression } from '../record/compression.ts';
import { crc32c } from '../record/crc32c.ts';
import { writeInt64 } from '../record/int64.ts';
import { BATCH_HEADER_SIZE, BatchField, CURRENT_MAGIC, LOG_OVERHEAD } from '../record/record-batch.ts';
import { varintSize, writeVarint } from '../record/varint.ts';
import { descriptorSize, isAmqpName, isAmqpString, sectionCodeAt, Section, skipAmqpValue } from './amqp10.ts';
import { HEADER, SECTION_HEADERS } from './stream-headers.ts';

// Per-message layout slots: positions in the message's buffer, -1 when absent.
const START = 0;
const END = 1;
/** A section's range [s, s+1) for each of SECTION_HEADERS' sections, in their order (header, delivery-annotations, message-annotations, properties, footer). */
const SECTIONS = 2;
const APP_START = 12; // application-properties entries (after the map's size and count)
const APP_END = 13;
const VALUE_START = 14;
const VALUE_END = 15;
/** 1: the value holds the body sections as published (amqp-value, amqp-sequence, several data sections, or an unparsable message). */
const VERBATIM = 16;
const RECORD_SIZE = 17; // the record's encoding after its length varint
const HEADER_COUNT = 18;
const TYPED_APP_BYTES = 19; // bytes of the application-properties entries that are not string → string
const TYPED_APP_COUNT = 20; // their element count (keys and values)
const FILTER_START = 21; // the filter value (stream protocol Publish v2), in the message's buffer
const FILTER_END = 22;
const SLOTS = 23;

const SECTION_INDEX: Readonly<Record<number, number>> = { [Section.header]: 0, [Section.deliveryAnnotations]: 1, [Section.messageAnnotations]: 2, [Section.properties]: 3, [Section.footer]: 4 };

/**
 * Builds one Kafka record batch from AMQP 1.0 messages (the stream protocol's message format) with the
 * shared stream mapping (see stream-headers.ts): the data section is the record value, string → string
 * application properties are plain record headers, every other section is kept as published in an
 * `x-amqp-*` header. Two passes over the messages (measure, then write into one buffer); no object per message.
 */
export class StreamBatchBuilder {
  private layout = new Int32Array(64 * SLOTS);
  private sources: Buffer[] = [];
  private n = 0;

  get count(): number {
    return this.n;
  }

  reset(): void {
    this.n = 0;
    this.sources.length = 0;
  }

  /** Adds the AMQP 1.0 message `buf[start, end)`, with the filter value `buf[filterStart, filterEnd)` if filterStart >= 0. */
  add(buf: Buffer, start: number, end: number, filterStart = -1, filterEnd = -1): void {
    if ((this.n + 1) * SLOTS > this.layout.length) {
      const grown = new Int32Array(this.layout.length * 2);
      grown.set(this.layout);
      this.layout = grown;
    }
    const at = this.n * SLOTS;
    this.sources.push(buf);
    this.n++;
    const l = this.layout;
    l.fill(-1, at, at + SLOTS);
    l[at + START] = start;
    l[at + END] = end;
    l[at + TYPED_APP_BYTES] = 0;
    l[at + TYPED_APP_COUNT] = 0;
    l[at + FILTER_START] = filterStart;
    l[at + FILTER_END] = filterEnd;
    try {
      parseSections(buf, start, end, l, at);
    } catch {
      l.fill(-1, at + SECTIONS, at + FILTER_START);
      l[at + TYPED_APP_BYTES] = 0;
      l[at + TYPED_APP_COUNT] = 0;
      l[at + VALUE_START] = start;
      l[at + VALUE_END] = end;
      l[at + VERBATIM] = 1;
    }
    measure(buf, l, at, this.n - 1);
  }

  /**
   * The batch (baseOffset 0, CreateTime `timestamp`). With `tracking`, the last record also carries the
   * publisher's reference and its last publishing id (`x-amqp-publisher`), which is how deduplication
   * survives a restart. A `subEntry` batch is one sub-entry of a stream Publish: its first record is
   * marked `x-amqp-sub-entry`; it is built uncompressed (see gzipBatch).
   */
  build(timestamp: number, tracking?: { reference: Buffer; publishingId: bigint }, subEntry = false): Buffer {
    const l = this.layout;
    const lastAt = (this.n - 1) * SLOTS;
    const trackingBytes = tracking ? trackingHeaderSize(tracking.reference) : 0;
    if (tracking) addHeader(l, lastAt, trackingBytes);
    if (subEntry) addHeader(l, 0, headerSize(HEADER.subEntry.length, 0));
    let size = BATCH_HEADER_SIZE;
    for (let i = 0; i < this.n; i++) size += varintSize(l[i * SLOTS + RECORD_SIZE]!) + l[i * SLOTS + RECORD_SIZE]!;
    const out = Buffer.allocUnsafe(size);
    writeInt64(out, BatchField.baseOffset, 0);
    out.writeInt32BE(size - LOG_OVERHEAD, BatchField.batchLength);
    out.writeInt32BE(0, BatchField.partitionLeaderEpoch);
    out[BatchField.magic] = CURRENT_MAGIC;
    out.writeInt16BE(0, BatchField.attributes);
    out.writeInt32BE(this.n - 1, BatchField.lastOffsetDelta);
    writeInt64(out, BatchField.baseTimestamp, timestamp);
    writeInt64(out, BatchField.maxTimestamp, timestamp);
    writeInt64(out, BatchField.producerId, -1);
    out.writeInt16BE(-1, BatchField.producerEpoch);
    out.writeInt32BE(-1, BatchField.baseSequence);
    out.writeInt32BE(this.n, BatchField.recordCount);
    let pos: number = BatchField.records;
    for (let i = 0; i < this.n; i++) {
      pos = writeRecord(this.sources[i]!, l, i * SLOTS, i, out, pos);
      if (subEntry && i === 0) pos = writeVarint(out, writeHeaderKey(out, pos, HEADER.subEntry), 0);
      if (tracking && i === this.n - 1) pos = writeTrackingHeader(out, pos, tracking.reference, tracking.publishingId);
    }
    out.writeUInt32BE(crc32c(out, BatchField.attributes, size), BatchField.crc);
    this.reset();
    return out;
  }
}

/**
 * `batch` (as build returns it) with its records gzip-compressed, as a Kafka producer's gzip batch: how a
 * gzip sub-entry is stored, so Kafka consumers read it as such and stream consumers get it compressed.
 */
export function gzipBatch(batch: Buffer): Buffer {
  const records = gzipSync(batch.subarray(BatchField.records));
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + records.length);
  batch.copy(out, 0, 0, BATCH_HEADER_SIZE);
  records.copy(out, BATCH_HEADER_SIZE);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BatchField.batchLength);
  out.writeInt16BE(Compression.gzip, BatchField.attributes);
  out.writeUInt32BE(crc32c(out, BatchField.attributes, out.length), BatchField.crc);
  return out;
}

/** Makes room in the record at `at` for one more header of `bytes` bytes. */
function addHeader(l: Int32Array, at: number, bytes: number): void {
  l[at + RECORD_SIZE] = l[at + RECORD_SIZE]! - varintSize(l[at + HEADER_COUNT]!) + varintSize(l[at + HEADER_COUNT]! + 1) + bytes;
  l[at + HEADER_COUNT] = l[at + HEADER_COUNT]! + 1;
}

function parseSections(buf: Buffer, start: number, end: number, l: Int32Array, at: number): void {
  let pos = start;
  let dataSections = 0;
  let bodyStart = -1;
  let bodyEnd = -1;
  while (pos < end) {
    const code = sectionCodeAt(buf, pos, end);
    if (code < 0) throw new Error('not a section');
    const valueAt = pos + descriptorSize(buf, pos);
    const next = skipAmqpValue(buf, valueAt, end);
    if (code === Section.data || code === Section.amqpValue || code === Section.amqpSequence) {
      if (bodyStart < 0) bodyStart = pos;
      bodyEnd = next;
      if (code === Section.data) dataSections++;
      else dataSections = 2; // kept verbatim
    } else if (code === Section.applicationProperties) {
      const mapCode = buf[valueAt]!;
      if (mapCode === 0xc1) {
        l[at + APP_START] = valueAt + 3;
      } else if (mapCode === 0xd1) {
        l[at + APP_START] = valueAt + 9;
      } else if (mapCode !== 0x40) throw new Error('application-properties is not a map');
      if (mapCode !== 0x40) l[at + APP_END] = next;
    } else {
      const index = SECTION_INDEX[code];
      if (index === undefined) throw new Error('unknown section');
      l[at + SECTIONS + index * 2] = pos;
      l[at + SECTIONS + index * 2 + 1] = next;
    }
    pos = next;
  }
  if (dataSections === 1) {
    const valueAt = bodyStart + descriptorSize(buf, bodyStart);
    const code = buf[valueAt]!;
    if (code === 0xa0) {
      l[at + VALUE_START] = valueAt + 2;
    } else if (code === 0xb0) {
      l[at + VALUE_START] = valueAt + 5;
    } else throw new Error('data is not binary');
    l[at + VALUE_END] = bodyEnd;
    l[at + VERBATIM] = 0;
  } else {
    l[at + VALUE_START] = bodyStart < 0 ? start : bodyStart;
    l[at + VALUE_END] = bodyStart < 0 ? start : bodyEnd;
    l[at + VERBATIM] = bodyStart < 0 ? 0 : 1;
  }
  const appStart = l[at + APP_START]!;
  if (appStart >= 0) {
    const appEnd = l[at + APP_END]!;
    let p = appStart;
    while (p < appEnd) {
      const keyEnd = skipAmqpValue(buf, p, appEnd);
      const valueEnd = skipAmqpValue(buf, keyEnd, appEnd);
      if (!(isAmqpName(buf[p]!) && isAmqpString(buf[keyEnd]!))) {
        l[at + TYPED_APP_BYTES] = l[at + TYPED_APP_BYTES]! + valueEnd - p;
        l[at + TYPED_APP_COUNT] = l[at + TYPED_APP_COUNT]! + 2;
      }
      p = valueEnd;
    }
  }
}

/** Length and start of the string/symbol/binary value at `pos` (its header is 2 or 5 bytes). */
const payloadAt = (buf: Buffer, pos: number): number => pos + ((buf[pos]! & 0xf0) === 0xa0 ? 2 : 5);

function measure(buf: Buffer, l: Int32Array, at: number, index: number): void {
  let headers = 0;
  let size = 0;
  for (let s = 0; s < SECTION_HEADERS.length; s++) {
    const start = l[at + SECTIONS + s * 2]!;
    if (start < 0) continue;
    headers++;
    size += headerSize(SECTION_HEADERS[s]!.length, l[at + SECTIONS + s * 2 + 1]! - start);
  }
  const appStart = l[at + APP_START]!;
  if (appStart >= 0) {
    const appEnd = l[at + APP_END]!;
    let p = appStart;
    while (p < appEnd) {
      const keyEnd = skipAmqpValue(buf, p, appEnd);
      const valueEnd = skipAmqpValue(buf, keyEnd, appEnd);
      if (isAmqpName(buf[p]!) && isAmqpString(buf[keyEnd]!)) {
        headers++;
        size += headerSize(keyEnd - payloadAt(buf, p), valueEnd - payloadAt(buf, keyEnd));
      }
      p = valueEnd;
    }
    if (l[at + TYPED_APP_COUNT]! > 0) {
      headers++;
      size += headerSize(HEADER.applicationProperties.length, 9 + l[at + TYPED_APP_BYTES]!);
    }
  }
  if (l[at + VERBATIM] === 1) {
    headers++;
    size += headerSize(HEADER.body.length, 0);
  }
  if (l[at + FILTER_START]! >= 0) {
    headers++;
    size += headerSize(HEADER.filterValue.length, l[at + FILTER_END]! - l[at + FILTER_START]!);
  }
  const valueLength = l[at + VALUE_END]! - l[at + VALUE_START]!;
  // attributes, timestamp delta 0, offset delta, null key, value, header count
  size += 1 + 1 + varintSize(index) + 1 + varintSize(valueLength) + valueLength + varintSize(headers);
  l[at + HEADER_COUNT] = headers;
  l[at + RECORD_SIZE] = size;
}

const headerSize = (keyLength: number, valueLength: number): number => varintSize(keyLength) + keyLength + varintSize(valueLength) + valueLength;

function writeRecord(buf: Buffer, l: Int32Array, at: number, index: number, out: Buffer, pos: number): number {
  pos = writeVarint(out, pos, l[at + RECORD_SIZE]!);
  out[pos++] = 0;
  out[pos++] = 0;
  pos = writeVarint(out, pos, index);
  out[pos++] = 1; // key: varint -1
  const valueStart = l[at + VALUE_START]!;
  const valueEnd = l[at + VALUE_END]!;
  pos = writeVarint(out, pos, valueEnd - valueStart);
  pos += buf.copy(out, pos, valueStart, valueEnd);
  pos = writeVarint(out, pos, l[at + HEADER_COUNT]!);
  for (let s = 0; s < SECTION_HEADERS.length; s++) {
    const start = l[at + SECTIONS + s * 2]!;
    if (start < 0) continue;
    pos = writeHeaderKey(out, pos, SECTION_HEADERS[s]!);
    const end = l[at + SECTIONS + s * 2 + 1]!;
    pos = writeVarint(out, pos, end - start);
    pos += buf.copy(out, pos, start, end);
  }
  const appStart = l[at + APP_START]!;
  if (appStart >= 0) {
    const appEnd = l[at + APP_END]!;
    let p = appStart;
    while (p < appEnd) {
      const keyEnd = skipAmqpValue(buf, p, appEnd);
      const valueEnd = skipAmqpValue(buf, keyEnd, appEnd);
      if (isAmqpName(buf[p]!) && isAmqpString(buf[keyEnd]!)) {
        const keyAt = payloadAt(buf, p);
        pos = writeVarint(out, pos, keyEnd - keyAt);
        pos += buf.copy(out, pos, keyAt, keyEnd);
        const valueAt = payloadAt(buf, keyEnd);
        pos = writeVarint(out, pos, valueEnd - valueAt);
        pos += buf.copy(out, pos, valueAt, valueEnd);
      }
      p = valueEnd;
    }
    const typedCount = l[at + TYPED_APP_COUNT]!;
    if (typedCount > 0) {
      pos = writeHeaderKey(out, pos, HEADER.applicationProperties);
      const typedBytes = l[at + TYPED_APP_BYTES]!;
      pos = writeVarint(out, pos, 9 + typedBytes);
      out[pos] = 0xd1;
      out.writeUInt32BE(4 + typedBytes, pos + 1);
      out.writeUInt32BE(typedCount, pos + 5);
      pos += 9;
      p = appStart;
      while (p < appEnd) {
        const keyEnd = skipAmqpValue(buf, p, appEnd);
        const valueEnd = skipAmqpValue(buf, keyEnd, appEnd);
        if (!(isAmqpName(buf[p]!) && isAmqpString(buf[keyEnd]!))) pos += buf.copy(out, pos, p, valueEnd);
        p = valueEnd;
      }
    }
  }
  if (l[at + VERBATIM] === 1) {
    pos = writeHeaderKey(out, pos, HEADER.body);
    pos = writeVarint(out, pos, 0);
  }
  const filterStart = l[at + FILTER_START]!;
  if (filterStart >= 0) {
    pos = writeHeaderKey(out, pos, HEADER.filterValue);
    pos = writeVarint(out, pos, l[at + FILTER_END]! - filterStart);
    pos += buf.copy(out, pos, filterStart, l[at + FILTER_END]!);
  }
  return pos;
}

function writeHeaderKey(out: Buffer, pos: number, key: Buffer): number {
  pos = writeVarint(out, pos, key.length);
  return pos + key.copy(out, pos);
}

function trackingHeaderSize(reference: Buffer): number {
  return headerSize(HEADER.publisher.length, 8 + reference.length);
}

function writeTrackingHeader(out: Buffer, pos: number, reference: Buffer, publishingId: bigint): number {
  pos = writeHeaderKey(out, pos, HEADER.publisher);
  pos = writeVarint(out, pos, 8 + reference.length);
  out.writeBigUInt64BE(publishingId, pos);
  return pos + 8 + reference.copy(out, pos + 8);
}
