import { BrokerError } from '../errors.ts';
import { batchSizeAt, forEachRecord, RecordBatch, type DecodedRecord } from '../record/index.ts';
import type { PartitionLog } from './partition-log.ts';

export interface BrowseOptions {
  /** First offset wanted (clamped to the log start). */
  from: number;
  /** Most records returned. */
  limit: number;
  /** Bytes read per step (at least one whole batch is always read). */
  readBytes?: number;
  /** Skips records for which this is false (e.g. messages a queue already acknowledged). */
  accept?: (offset: number) => boolean;
}

export interface BrowseResult {
  records: DecodedRecord[];
  /** Where a next page starts. */
  next: number;
}

/** How many bytes a browse reads at most, whatever `limit` asks: an admin request never reads a log whole. */
const MAX_SCAN_BYTES = 64 * 1024 * 1024;

/**
 * Reads committed records from a log without consuming anything: no cursor, no ack state, just the
 * stored batches decoded (compressed ones decompressed). For admin message browsers.
 */
export async function browseLog(log: PartitionLog, options: BrowseOptions): Promise<BrowseResult> {
  const records: DecodedRecord[] = [];
  const readBytes = options.readBytes ?? 1024 * 1024;
  let offset = Math.max(options.from, log.logStartOffset);
  let scanned = 0;
  while (records.length < options.limit && offset < log.highWatermark && scanned < MAX_SCAN_BYTES) {
    let chunk: Buffer;
    try {
      chunk = (await log.read(offset, readBytes)).records;
    } catch (err) {
      // Retention moved the log start past us meanwhile: carry on from there.
      if (!BrokerError.is(err, 'OFFSET_OUT_OF_RANGE') || log.logStartOffset <= offset) throw err;
      offset = log.logStartOffset;
      continue;
    }
    if (chunk.length === 0) break;
    scanned += chunk.length;
    let next = offset;
    for (let pos = 0; pos < chunk.length && records.length < options.limit; ) {
      const size = batchSizeAt(chunk, pos);
      if (size <= 0) break;
      const batch = new RecordBatch(chunk, pos);
      if (batch.nextOffset > offset) {
        forEachRecord(chunk, pos, (recordOffset, timestamp, key, value, headers) => {
          if (recordOffset < offset || records.length >= options.limit) return;
          if (options.accept && !options.accept(recordOffset)) return;
          records.push({ offset: recordOffset, timestamp, key, value, headers });
        });
      }
      next = records.length >= options.limit ? records[records.length - 1]!.offset + 1 : Math.max(next, batch.nextOffset);
      pos += size;
    }
    if (next <= offset) break;
    offset = next;
  }
  return { records, next: offset };
}
