import { BrokerError } from '../errors.ts';
import { Compression, decompress } from './compression.ts';
import { crc32c } from './crc32c.ts';
import { readInt64, writeInt64 } from './int64.ts';
import { VarintReader, varintSize, writeVarint } from './varint.ts';

/**
 * Kafka's record batch v2 (magic 2): the one stored unit for every protocol.
 * Field positions are relative to the start of the batch.
 */
export const BatchField = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
  records: 61,
} as const;

/** baseOffset + batchLength precede what batchLength counts. */
export const LOG_OVERHEAD = 12;
export const BATCH_HEADER_SIZE = 61;
export const CURRENT_MAGIC = 2;
/** The smallest uncompressed record: seven one-byte fields. */
const MIN_RECORD_SIZE = 7;

export const COMPRESSION_MASK = 0x07;
const LOG_APPEND_TIME_FLAG = 0x08;
export const TRANSACTIONAL_FLAG = 0x10;
export const CONTROL_FLAG = 0x20;

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: readonly RecordHeader[];
  /** Defaults to the batch timestamp. */
  timestamp?: number;
}

export interface BatchInput {
  records: readonly RecordInput[];
  baseOffset?: number;
  /** Base timestamp; defaults to the first record's timestamp, else now. */
  timestamp?: number;
  logAppendTime?: boolean;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  control?: boolean;
}

/** Shared by every decoded record without headers (most queue messages): one array, never written to. */
const NO_HEADERS: RecordHeader[] = Object.freeze([]) as unknown as RecordHeader[];

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** A lazy view over one stored batch: header fields are read on demand, records are not touched. */
export class RecordBatch {
  constructor(
    readonly buf: Buffer,
    readonly pos = 0,
  ) {}

  get baseOffset(): number {
    return readInt64(this.buf, this.pos + BatchField.baseOffset);
  }
  get sizeInBytes(): number {
    return LOG_OVERHEAD + this.buf.readInt32BE(this.pos + BatchField.batchLength);
  }
  get magic(): number {
    return this.buf.readInt8(this.pos + BatchField.magic);
  }
  get crc(): number {
    return this.buf.readUInt32BE(this.pos + BatchField.crc);
  }
  get attributes(): number {
    return this.buf.readInt16BE(this.pos + BatchField.attributes);
  }
  get compression(): number {
    return this.attributes & COMPRESSION_MASK;
  }
  get isLogAppendTime(): boolean {
    return (this.attributes & LOG_APPEND_TIME_FLAG) !== 0;
  }
  get isTransactional(): boolean {
    return (this.attributes & TRANSACTIONAL_FLAG) !== 0;
  }
  get isControl(): boolean {
    return (this.attributes & CONTROL_FLAG) !== 0;
  }
  get lastOffsetDelta(): number {
    return this.buf.readInt32BE(this.pos + BatchField.lastOffsetDelta);
  }
  get lastOffset(): number {
    return this.baseOffset + this.lastOffsetDelta;
  }
  get nextOffset(): number {
    return this.lastOffset + 1;
  }
  get baseTimestamp(): number {
    return readInt64(this.buf, this.pos + BatchField.baseTimestamp);
  }
  get maxTimestamp(): number {
    return readInt64(this.buf, this.pos + BatchField.maxTimestamp);
  }
  get producerId(): number {
    return readInt64(this.buf, this.pos + BatchField.producerId);
  }
  get producerEpoch(): number {
    return this.buf.readInt16BE(this.pos + BatchField.producerEpoch);
  }
  get baseSequence(): number {
    return this.buf.readInt32BE(this.pos + BatchField.baseSequence);
  }
  get recordCount(): number {
    return this.buf.readInt32BE(this.pos + BatchField.recordCount);
  }
  /** The batch's bytes as a view. */
  get bytes(): Buffer {
    return this.buf.subarray(this.pos, this.pos + this.sizeInBytes);
  }
}

/** Overwrites baseOffset in place. Outside the CRC, so the batch stays valid. */
export function setBaseOffset(buf: Buffer, pos: number, offset: number): void {
  writeInt64(buf, pos + BatchField.baseOffset, offset);
}

/** Overwrites partitionLeaderEpoch in place. Outside the CRC. */
export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + BatchField.partitionLeaderEpoch);
}

/** Marks the batch LogAppendTime with `now` as its max timestamp, then recomputes the CRC it touched. */
export function setLogAppendTime(buf: Buffer, pos: number, now: number): void {
  const attributes = buf.readInt16BE(pos + BatchField.attributes);
  setTimestampFields(buf, pos, attributes | LOG_APPEND_TIME_FLAG, now);
}

/**
 * Kafka's broker sets a CreateTime batch's maxTimestamp to its largest record timestamp, and makes a
 * batch its producer flagged LogAppendTime a CreateTime one. Wharf trusts a header max at or above the
 * base timestamp and reads the records (decompressing them) only for one below it: the -1 of producers
 * that never fill the field (Sarama 1.22). Recomputes the CRC if it changes the header; says whether it did.
 * Throws CORRUPT_RECORD if the records it has to read are malformed.
 */
export function repairMaxTimestamp(buf: Buffer, pos = 0): boolean {
  const attributes = buf.readInt16BE(pos + BatchField.attributes);
  const stated = readInt64(buf, pos + BatchField.maxTimestamp);
  const flagged = (attributes & LOG_APPEND_TIME_FLAG) !== 0;
  if (!flagged && stated >= readInt64(buf, pos + BatchField.baseTimestamp)) return false;
  let max = stated;
  if (!flagged) {
    max = -1;
    forEachRecord(buf, pos, (_offset, timestamp) => {
      if (timestamp > max) max = timestamp;
    });
    if (max === stated) return false;
  }
  setTimestampFields(buf, pos, attributes & ~LOG_APPEND_TIME_FLAG, max);
  return true;
}

function setTimestampFields(buf: Buffer, pos: number, attributes: number, maxTimestamp: number): void {
  buf.writeInt16BE(attributes, pos + BatchField.attributes);
  writeInt64(buf, pos + BatchField.maxTimestamp, maxTimestamp);
  const end = pos + LOG_OVERHEAD + buf.readInt32BE(pos + BatchField.batchLength);
  buf.writeUInt32BE(crc32c(buf, pos + BatchField.attributes, end), pos + BatchField.crc);
}

/**
 * The size of the batch at `pos` if its header is readable and its length plausible and complete
 * within `end`; -1 if the bytes stop before the batch does; CORRUPT_RECORD if the length is impossible.
 */
export function batchSizeAt(buf: Buffer, pos: number, end = buf.length): number {
  if (end - pos < LOG_OVERHEAD) return -1;
  const batchLength = buf.readInt32BE(pos + BatchField.batchLength);
  if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD) throw corrupt(`batch length ${batchLength} is below the header size`);
  const size = LOG_OVERHEAD + batchLength;
  return size <= end - pos ? size : -1;
}

/**
 * Validates the batch at `pos`: sizes, magic, count, CRC-32C over [attributes, end).
 * Returns its size in bytes; throws CORRUPT_RECORD otherwise.
 */
export function validateRecordBatch(buf: Buffer, pos = 0, end = buf.length): number {
  const size = batchSizeAt(buf, pos, end);
  if (size < 0) throw corrupt('batch is truncated');
  const magic = buf.readInt8(pos + BatchField.magic);
  if (magic !== CURRENT_MAGIC) throw corrupt(`unsupported magic ${magic}`);
  const stored = buf.readUInt32BE(pos + BatchField.crc);
  const actual = crc32c(buf, pos + BatchField.attributes, pos + size);
  if (stored !== actual) throw corrupt(`CRC mismatch: stored ${stored}, computed ${actual}`);
  const lastOffsetDelta = buf.readInt32BE(pos + BatchField.lastOffsetDelta);
  const count = buf.readInt32BE(pos + BatchField.recordCount);
  if (lastOffsetDelta < 0 || count < 0) throw corrupt('negative record count');
  const compressed = (buf.readInt16BE(pos + BatchField.attributes) & COMPRESSION_MASK) !== Compression.none;
  if (!compressed && count * MIN_RECORD_SIZE > size - BATCH_HEADER_SIZE) throw corrupt(`record count ${count} exceeds the batch`);
  return size;
}

/**
 * Kafka's client-append rules (LogValidator.validateBatch): the offsets a batch spans equal its record
 * count, it holds at least one record, it is no control batch, and an idempotent one has a sequence.
 */
export function checkClientBatch(buf: Buffer, pos = 0): void {
  const count = buf.readInt32BE(pos + BatchField.recordCount);
  const lastOffsetDelta = buf.readInt32BE(pos + BatchField.lastOffsetDelta);
  if (count <= 0 || lastOffsetDelta + 1 !== count) {
    throw new BrokerError('INVALID_RECORD', `batch spans ${lastOffsetDelta + 1} offsets but holds ${count} records`);
  }
  if ((buf.readInt16BE(pos + BatchField.attributes) & CONTROL_FLAG) !== 0) {
    throw new BrokerError('INVALID_RECORD', 'clients may not append control batches');
  }
  const baseSequence = buf.readInt32BE(pos + BatchField.baseSequence);
  if (readInt64(buf, pos + BatchField.producerId) >= 0 && baseSequence < 0) {
    throw new BrokerError('INVALID_RECORD', `invalid sequence number ${baseSequence} in an idempotent batch`);
  }
}

/** Encodes an uncompressed batch with a valid CRC. */
export function encodeRecordBatch(input: BatchInput): Buffer {
  const { records } = input;
  if (records.length === 0) throw new BrokerError('INVALID_RECORD', 'a batch holds at least one record');
  const baseTimestamp = input.timestamp ?? records[0]!.timestamp ?? Date.now();
  let maxTimestamp = baseTimestamp;
  let size = BATCH_HEADER_SIZE;
  const bodySizes = new Array<number>(records.length);
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const timestamp = record.timestamp ?? baseTimestamp;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const body = recordBodySize(record, timestamp - baseTimestamp, i);
    bodySizes[i] = body;
    size += varintSize(body) + body;
  }
  const buf = Buffer.allocUnsafe(size);
  writeInt64(buf, BatchField.baseOffset, input.baseOffset ?? 0);
  buf.writeInt32BE(size - LOG_OVERHEAD, BatchField.batchLength);
  buf.writeInt32BE(0, BatchField.partitionLeaderEpoch);
  buf.writeInt8(CURRENT_MAGIC, BatchField.magic);
  let attributes = 0;
  if (input.logAppendTime) attributes |= LOG_APPEND_TIME_FLAG;
  if (input.transactional) attributes |= TRANSACTIONAL_FLAG;
  if (input.control) attributes |= CONTROL_FLAG;
  buf.writeInt16BE(attributes, BatchField.attributes);
  buf.writeInt32BE(records.length - 1, BatchField.lastOffsetDelta);
  writeInt64(buf, BatchField.baseTimestamp, baseTimestamp);
  writeInt64(buf, BatchField.maxTimestamp, maxTimestamp);
  writeInt64(buf, BatchField.producerId, input.producerId ?? -1);
  buf.writeInt16BE(input.producerEpoch ?? -1, BatchField.producerEpoch);
  buf.writeInt32BE(input.baseSequence ?? -1, BatchField.baseSequence);
  buf.writeInt32BE(records.length, BatchField.recordCount);
  let pos: number = BatchField.records;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    pos = writeVarint(buf, pos, bodySizes[i]!);
    buf[pos++] = 0;
    pos = writeVarint(buf, pos, (record.timestamp ?? baseTimestamp) - baseTimestamp);
    pos = writeVarint(buf, pos, i);
    pos = writeBytesField(buf, pos, record.key ?? null);
    pos = writeBytesField(buf, pos, record.value);
    const headers = record.headers ?? [];
    pos = writeVarint(buf, pos, headers.length);
    for (const header of headers) {
      const keyLength = Buffer.byteLength(header.key);
      pos = writeVarint(buf, pos, keyLength);
      pos += buf.write(header.key, pos, keyLength, 'utf8');
      pos = writeBytesField(buf, pos, header.value);
    }
  }
  buf.writeUInt32BE(crc32c(buf, BatchField.attributes, size), BatchField.crc);
  return buf;
}

/**
 * Receives one decoded record; keys, values and header values are views into the batch. The record's
 * whole encoding (its length varint included) is `records[start, end)`: `records` is the batch itself,
 * or its decompressed records section.
 */
export type RecordVisitor = (
  offset: number,
  timestamp: number,
  key: Buffer | null,
  value: Buffer | null,
  headers: RecordHeader[],
  records: Buffer,
  start: number,
  end: number,
) => void;

/**
 * Decodes the records of a batch. Keys, values and header values are views into `buf` (into the
 * decompressed records for a compressed batch). Throws CORRUPT_RECORD for records that do not fit the batch.
 */
export function decodeRecords(buf: Buffer, pos = 0): DecodedRecord[] {
  const records: DecodedRecord[] = [];
  forEachRecord(buf, pos, (offset, timestamp, key, value, headers) => records.push({ offset, timestamp, key, value, headers }));
  return records;
}

/** decodeRecords without a record object per record: each is handed to `visit` as it is decoded. */
export function forEachRecord(buf: Buffer, pos: number, visit: RecordVisitor): void {
  const size = batchSizeAt(buf, pos);
  if (size < 0) throw corrupt('batch is truncated');
  const batch = new RecordBatch(buf, pos);
  if (batch.magic !== CURRENT_MAGIC) throw corrupt(`unsupported magic ${batch.magic}`);
  const batchEnd = pos + size;
  const compressed = batch.compression !== Compression.none;
  const records = compressed ? decompress(batch.compression, buf.subarray(pos + BatchField.records, batchEnd)) : buf;
  const start = compressed ? 0 : pos + BatchField.records;
  const end = compressed ? records.length : batchEnd;
  const baseOffset = batch.baseOffset;
  const baseTimestamp = batch.baseTimestamp;
  const logAppendTime = batch.isLogAppendTime ? batch.maxTimestamp : -1;
  const count = batch.recordCount;
  if (count < 0 || count * MIN_RECORD_SIZE > end - start) throw corrupt(`record count ${count} exceeds the batch`);
  const reader = new VarintReader(records, start, end);
  for (let i = 0; i < count; i++) {
    const recordStart = reader.offset;
    const length = reader.varint();
    const recordEnd = reader.offset + length;
    if (length < MIN_RECORD_SIZE - 1 || recordEnd > end) throw corrupt('record length out of range');
    reader.int8();
    const timestampDelta = reader.varint(10);
    const offsetDelta = reader.varint();
    const key = reader.bytes(reader.varint());
    const value = reader.bytes(reader.varint());
    const headerCount = reader.varint();
    if (headerCount < 0 || headerCount * 2 > recordEnd - reader.offset) throw corrupt('header count out of range');
    const headers: RecordHeader[] = headerCount === 0 ? NO_HEADERS : [];
    for (let h = 0; h < headerCount; h++) {
      const headerKey = reader.bytes(reader.varint());
      if (headerKey === null) throw corrupt('null header key');
      headers.push({ key: headerKey.toString('utf8'), value: reader.bytes(reader.varint()) });
    }
    if (reader.offset !== recordEnd) throw corrupt('record length disagrees with its fields');
    visit(baseOffset + offsetDelta, logAppendTime >= 0 ? logAppendTime : baseTimestamp + timestampDelta, key, value, headers, records, recordStart, recordEnd);
  }
  if (reader.offset !== end) throw corrupt('bytes remain after the last record');
}

function recordBodySize(record: RecordInput, timestampDelta: number, offsetDelta: number): number {
  let size = 1 + varintSize(timestampDelta) + varintSize(offsetDelta);
  size += bytesFieldSize(record.key ?? null) + bytesFieldSize(record.value);
  const headers = record.headers ?? [];
  size += varintSize(headers.length);
  for (const header of headers) {
    const keyLength = Buffer.byteLength(header.key);
    size += varintSize(keyLength) + keyLength + bytesFieldSize(header.value);
  }
  return size;
}

function bytesFieldSize(bytes: Buffer | null): number {
  return bytes === null ? 1 : varintSize(bytes.length) + bytes.length;
}

function writeBytesField(buf: Buffer, pos: number, bytes: Buffer | null): number {
  if (bytes === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, bytes.length);
  return pos + bytes.copy(buf, pos);
}

function corrupt(message: string): BrokerError {
  return new BrokerError('CORRUPT_RECORD', message);
}
