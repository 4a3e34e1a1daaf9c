import { crc32c } from './crc32c.ts';
import { readInt64, writeInt64 } from './int64.ts';
import { BATCH_HEADER_SIZE, BatchField, COMPRESSION_MASK, LOG_OVERHEAD, RecordBatch, forEachRecord } from './record-batch.ts';
import { VarintReader, varintSize, writeVarint } from './varint.ts';

/** KIP-534: the batch's base timestamp is its delete horizon, after which the cleaner drops its tombstones. */
export const DELETE_HORIZON_FLAG = 0x40;

/** Whether a record stays: its offset, key and value (null: a tombstone). */
export type RecordRetention = (offset: number, key: Buffer | null, value: Buffer | null) => boolean;

export type FilteredBatch = { readonly kept: 'all' } | { readonly kept: 'none' } | { readonly kept: 'some'; readonly batch: Buffer };

const ALL: FilteredBatch = Object.freeze({ kept: 'all' });
const NONE: FilteredBatch = Object.freeze({ kept: 'none' });

/** The delete horizon a cleaner set on the batch (KIP-534), if any. */
export function deleteHorizonOf(batch: Buffer): number | undefined {
  return (batch.readInt16BE(BatchField.attributes) & DELETE_HORIZON_FLAG) !== 0 ? readInt64(batch, BatchField.baseTimestamp) : undefined;
}

/**
 * Applies `retain` to each record of the whole stored batch `batch`, as Kafka's MemoryRecords.filterTo
 * does for the log cleaner. When only some records stay, or `deleteHorizon` is to be set, the survivors are
 * written into a new uncompressed batch with the same header (base offset, last offset delta, producer,
 * sequence, leader epoch), each record in its original encoding, so it keeps its offset; with a delete
 * horizon the base timestamp becomes the horizon and each record's timestamp delta is re-encoded against
 * it, so it keeps its timestamp too. Count, max timestamp (unless LogAppendTime), length and CRC are new.
 */
export function filterRecords(batch: Buffer, retain: RecordRetention, deleteHorizon?: () => number | undefined): FilteredBatch {
  const header = new RecordBatch(batch);
  const count = header.recordCount;
  const starts: number[] = [];
  const ends: number[] = [];
  let records: Buffer = batch;
  let keptBytes = 0;
  let maxTimestamp = -1;
  forEachRecord(batch, 0, (offset, timestamp, key, value, _headers, source, start, end) => {
    if (!retain(offset, key, value)) return;
    records = source;
    starts.push(start);
    ends.push(end);
    keptBytes += end - start;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
  });
  if (starts.length === 0) return NONE;
  const horizon = deleteHorizon?.();
  if (starts.length === count && horizon === undefined) return ALL;
  const oldBase = header.baseTimestamp;
  const newBase = horizon ?? oldBase;
  if (horizon !== undefined) keptBytes = rebasedSize(records, starts, ends, oldBase, newBase);
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + keptBytes);
  batch.copy(out, 0, 0, BATCH_HEADER_SIZE);
  let pos = BATCH_HEADER_SIZE;
  for (let i = 0; i < starts.length; i++) {
    pos = horizon === undefined ? pos + records.copy(out, pos, starts[i]!, ends[i]!) : writeRebased(records, starts[i]!, ends[i]!, oldBase, newBase, out, pos);
  }
  let attributes = header.attributes & ~COMPRESSION_MASK;
  if (horizon !== undefined) {
    attributes |= DELETE_HORIZON_FLAG;
    writeInt64(out, BatchField.baseTimestamp, horizon);
  }
  out.writeInt32BE(out.length - LOG_OVERHEAD, BatchField.batchLength);
  out.writeInt16BE(attributes, BatchField.attributes);
  if (!header.isLogAppendTime) writeInt64(out, BatchField.maxTimestamp, maxTimestamp);
  out.writeInt32BE(starts.length, BatchField.recordCount);
  out.writeUInt32BE(crc32c(out, BatchField.attributes, out.length), BatchField.crc);
  return { kept: 'some', batch: out };
}

/** A record's fields: where its timestamp delta starts and ends, that delta, and where the rest begins. */
function recordFields(records: Buffer, start: number, end: number): { attributesAt: number; delta: number; restAt: number } {
  const reader = new VarintReader(records, start, end);
  reader.varint();
  const attributesAt = reader.offset;
  reader.int8();
  const delta = reader.varint(10);
  return { attributesAt, delta, restAt: reader.offset };
}

function rebasedSize(records: Buffer, starts: readonly number[], ends: readonly number[], oldBase: number, newBase: number): number {
  let size = 0;
  for (let i = 0; i < starts.length; i++) {
    const { delta, restAt } = recordFields(records, starts[i]!, ends[i]!);
    const body = 1 + varintSize(oldBase + delta - newBase) + (ends[i]! - restAt);
    size += varintSize(body) + body;
  }
  return size;
}

function writeRebased(records: Buffer, start: number, end: number, oldBase: number, newBase: number, out: Buffer, pos: number): number {
  const { attributesAt, delta, restAt } = recordFields(records, start, end);
  const newDelta = oldBase + delta - newBase;
  pos = writeVarint(out, pos, 1 + varintSize(newDelta) + (end - restAt));
  out[pos++] = records[attributesAt]!;
  pos = writeVarint(out, pos, newDelta);
  return pos + records.copy(out, pos, restAt, end);
}

/**
 * The batch's header with no records: what the cleaner keeps of an idempotent producer's last batch when
 * none of its records stay, so the producer's sequence survives (Kafka keeps such empty batches too).
 */
export function emptyBatchOf(batch: Buffer): Buffer {
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
  batch.copy(out, 0, 0, BATCH_HEADER_SIZE);
  out.writeInt32BE(BATCH_HEADER_SIZE - LOG_OVERHEAD, BatchField.batchLength);
  out.writeInt16BE(new RecordBatch(batch).attributes & ~COMPRESSION_MASK, BatchField.attributes);
  out.writeInt32BE(0, BatchField.recordCount);
  out.writeUInt32BE(crc32c(out, BatchField.attributes, out.length), BatchField.crc);
  return out;
}
