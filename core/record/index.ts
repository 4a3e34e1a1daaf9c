export { Compression, decompress, MAX_DECOMPRESSED_BYTES, type CompressionCodec } from './compression.ts';
export { DELETE_HORIZON_FLAG, deleteHorizonOf, emptyBatchOf, filterRecords, type FilteredBatch, type RecordRetention } from './record-filter.ts';
export { ControlType, controlTypeAt, encodeTxnMarker, markerCoordinatorEpochAt, type ControlTypeCode } from './control-record.ts';
export { crc32c, crc32cJs, crc32cImplementation } from './crc32c.ts';
export { readInt64, writeInt64 } from './int64.ts';
export { VarintReader, varintSize, writeVarint } from './varint.ts';
export {
  BATCH_HEADER_SIZE,
  BatchField,
  COMPRESSION_MASK,
  CONTROL_FLAG,
  TRANSACTIONAL_FLAG,
  CURRENT_MAGIC,
  LOG_OVERHEAD,
  RecordBatch,
  batchSizeAt,
  checkClientBatch,
  decodeRecords,
  forEachRecord,
  type RecordVisitor,
  encodeRecordBatch,
  setBaseOffset,
  repairMaxTimestamp,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  validateRecordBatch,
  type BatchInput,
  type DecodedRecord,
  type RecordHeader,
  type RecordInput,
} from './record-batch.ts';
