import {
  BATCH_HEADER_SIZE,
  BatchField,
  BrokerError,
  Compression,
  CURRENT_MAGIC,
  LOG_OVERHEAD,
  RecordBatch,
  checkClientBatch,
  crc32c,
  forEachRecord,
  repairMaxTimestamp,
} from '../../core/index.ts';
import type { ProduceRequest } from './codec/index.ts';
import { KafkaError, type KafkaErrorCode } from './error-codes.ts';

/**
 * Kafka's refusals of produced records, in Kafka's order and with its codes: KafkaApis.handleProduceRequest,
 * ProduceRequest.validateRecords, UnifiedLog.analyzeAndValidateRecords and append, LogValidator.
 */
export interface Refusal {
  errorCode: KafkaErrorCode;
  message: string;
}

export interface BatchLimits {
  maxMessageBytes: number;
  segmentBytes: number;
  /** The topic stamps LogAppendTime: the producer's timestamps are not kept. */
  logAppendTime: boolean;
  /** The topic is compacted: every record needs a key (Kafka's LogValidator reads them all, decompressing). */
  compacted: boolean;
}

/** LegacyRecord.RECORD_OVERHEAD_V0: Kafka's batch iterator calls any smaller batch length corrupt. */
const MIN_BATCH_LENGTH = 14;

interface BatchHeader {
  size: number;
  magic: number;
}

const refuse = (errorCode: KafkaErrorCode, message: string): Refusal => ({ errorCode, message });
const isRefusal = (value: object): value is Refusal => 'errorCode' in value;

/**
 * The header of the batch at `pos` as Kafka's batch iterator reads it (ByteBufferLogInputStream):
 * undefined when the bytes stop before a whole batch, CORRUPT_MESSAGE for an impossible length or magic.
 */
function batchAt(records: Buffer, pos: number): BatchHeader | Refusal | undefined {
  const remaining = records.length - pos;
  if (remaining < LOG_OVERHEAD) return undefined;
  const length = records.readInt32BE(pos + BatchField.batchLength);
  if (length < MIN_BATCH_LENGTH) return refuse(KafkaError.CORRUPT_MESSAGE, `record batch length ${length} is below the smallest record`);
  if (remaining <= BatchField.magic) return undefined;
  const magic = records.readInt8(pos + BatchField.magic);
  if (magic < 0 || magic > CURRENT_MAGIC) return refuse(KafkaError.CORRUPT_MESSAGE, `invalid magic ${magic}`);
  const size = LOG_OVERHEAD + length;
  return remaining < size ? undefined : { size, magic };
}

/**
 * What Kafka answers for every partition of the request before it looks at any one: a first batch
 * header its iterator cannot read, transactional records without a transactional id the principal may
 * WRITE, then a v2 batch of an existing partition whose attributes name no known codec.
 */
export function requestRefusal(request: ProduceRequest, exists: (topic: string, partition: number) => boolean, transactionalAllowed: boolean): Refusal | undefined {
  for (const topic of request.topicData) {
    for (const { records } of topic.partitionData) {
      const first = Buffer.isBuffer(records) ? batchAt(records, 0) : undefined;
      if (first === undefined) continue;
      if (isRefusal(first)) return first;
      if (!transactionalAllowed && first.magic === CURRENT_MAGIC && new RecordBatch(records as Buffer).isTransactional) {
        return refuse(KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'Transactional Id authorization failed.');
      }
    }
  }
  for (const topic of request.topicData) {
    for (const { index, records } of topic.partitionData) {
      if (!Buffer.isBuffer(records) || !exists(topic.name, index)) continue;
      const first = batchAt(records, 0);
      if (first === undefined || isRefusal(first) || first.magic !== CURRENT_MAGIC) continue;
      const codec = new RecordBatch(records).compression;
      if (codec > Compression.zstd) return refuse(KafkaError.UNKNOWN_SERVER_ERROR, `unknown compression type id ${codec}`);
    }
  }
  return undefined;
}

/**
 * ProduceRequest.validateRecords: exactly one whole v2 batch, zstd only from Produce v7. Bytes after it
 * too few to make another whole batch are dropped, as Kafka trims them. Returns a view of the batch.
 */
export function checkRequestRecords(records: Buffer | null, version: number): Buffer | Refusal {
  const first = records === null ? undefined : batchAt(records, 0);
  if (first === undefined) return refuse(KafkaError.INVALID_RECORD, `Produce v${version} needs one record batch per partition`);
  if (isRefusal(first)) return first;
  const bytes = records!;
  if (first.magic !== CURRENT_MAGIC) return refuse(KafkaError.INVALID_RECORD, `Produce v${version} takes only magic 2 record batches`);
  if (new RecordBatch(bytes).compression === Compression.zstd && version < 7) {
    return refuse(KafkaError.UNSUPPORTED_COMPRESSION_TYPE, `Produce v${version} may not use zstd compression`);
  }
  const second = batchAt(bytes, first.size);
  if (second !== undefined) return isRefusal(second) ? second : refuse(KafkaError.INVALID_RECORD, `Produce v${version} takes exactly one record batch per partition`);
  return first.size === bytes.length ? bytes : bytes.subarray(0, first.size);
}

/**
 * What the log checks before appending a client's batch: base offset 0, size, CRC-32C, the client rules,
 * no LogAppendTime claimed by the producer, then the header is repaired if it is wrong (repairMaxTimestamp)
 * and the batch must fit a segment.
 */
export function checkBatchForLog(batch: Buffer, limits: BatchLimits): Refusal | undefined {
  const header = new RecordBatch(batch);
  if (header.baseOffset !== 0) return refuse(KafkaError.INVALID_RECORD, 'the base offset of a produced record batch must be 0');
  if (batch.length > limits.maxMessageBytes) {
    return refuse(KafkaError.MESSAGE_TOO_LARGE, `record batch of ${batch.length} bytes exceeds the maximum of ${limits.maxMessageBytes}`);
  }
  if (batch.length < BATCH_HEADER_SIZE) return refuse(KafkaError.CORRUPT_MESSAGE, 'record batch shorter than its header');
  const actual = crc32c(batch, BatchField.attributes, batch.length);
  if (header.crc !== actual) return refuse(KafkaError.CORRUPT_MESSAGE, `record batch is corrupt (stored crc ${header.crc}, computed ${actual})`);
  try {
    checkClientBatch(batch);
    if (header.isLogAppendTime && (limits.logAppendTime || header.maxTimestamp === -1)) {
      return refuse(KafkaError.INVALID_TIMESTAMP, 'producers may not set the timestamp type to LogAppendTime');
    }
    if (!limits.logAppendTime) repairMaxTimestamp(batch);
    if (limits.compacted) checkRecordsHaveKeys(batch);
  } catch (err) {
    if (!BrokerError.is(err)) throw err;
    return refuse(KafkaError.INVALID_RECORD, err.message);
  }
  if (batch.length > limits.segmentBytes) {
    return refuse(KafkaError.RECORD_LIST_TOO_LARGE, `record batch of ${batch.length} bytes exceeds the segment size ${limits.segmentBytes}`);
  }
  return undefined;
}

function checkRecordsHaveKeys(batch: Buffer): void {
  forEachRecord(batch, 0, (_offset, _timestamp, key) => {
    if (key === null) throw new BrokerError('INVALID_RECORD', 'Compacted topic cannot accept message without key');
  });
}
