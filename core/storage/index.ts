export type { SegmentFile, SegmentStore } from './segment-store.ts';
export { checkLogConfig, defaultLogConfig, formatFlushPolicy, parseFlushPolicy, MAX_SEGMENT_BYTES, type FlushPolicy, type LogConfig } from './log-config.ts';
export type { Acks, AppendOptions, AppendResult, LogId, OffsetAndTimestamp, PartitionLog, ReadResult, StorageEngine } from './partition-log.ts';
export { logDirName, parseLogDirName, parseSegmentFileName, parseSnapshotFileName, segmentFileName, snapshotFileName } from './log-names.ts';
export { ProducerStateTable, type ProducerBatchCheck, type ProducerStateView } from './producer-state.ts';
export { SegmentedLog } from './segmented-log.ts';
export { SegmentedStorageEngine } from './segmented-storage-engine.ts';
export { DiskMonitor, type FreeSpaceSource } from './disk-monitor.ts';
export { browseLog, type BrowseOptions, type BrowseResult } from './browse-log.ts';
