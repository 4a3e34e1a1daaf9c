import type { ReplicaLog } from '../replication/replicator.ts';
import type { LogConfig } from './log-config.ts';
import type { CompactionStats } from './log-compactor.ts';
import type { AbortedTransaction } from './partition-transactions.ts';
import type { ProducerStateView } from './producer-state.ts';

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The broker time written into LogAppendTime batches, else -1. */
  logAppendTime: number;
}

export interface AppendOptions {
  /** Stamp every batch LogAppendTime with this time (recomputes the CRC they carry). */
  logAppendTime?: number;
  /**
   * `all` (default): resolve once committed (replicated to the in-sync replicas in a cluster, refused
   * below `minInsyncReplicas`); `leader`: once stored here under the flush policy (Kafka's acks=1).
   */
  acks?: Acks;
}

export type Acks = 'all' | 'leader';

export interface ReadResult {
  /** Whole stored batches, contiguous, possibly empty. */
  records: Buffer;
  highWatermark: number;
  logStartOffset: number;
}

/** A compacted log's dirty part, as the cleaner sees it. */
export interface CompactionState {
  /** Dirty bytes over cleanable bytes. */
  dirtyRatio: number;
  dirtyBytes: number;
  /** The ratio is at min.cleanable.dirty.ratio, or a dirty record is older than max.compaction.lag.ms. */
  due: boolean;
}

export interface OffsetAndTimestamp {
  offset: number;
  timestamp: number;
}

/**
 * One partition's log, as protocols and core services see it. Offsets are assigned in call order.
 * `append` takes ownership of the buffer (its baseOffset fields are patched in place) and resolves
 * once the replicator counts the batches as committed, which moves the high watermark.
 */
export interface PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly config: Readonly<LogConfig>;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly highWatermark: number;
  /** Total bytes in all segments. */
  readonly size: number;
  /** How many segments hold the log, for storage metrics; absent where storage has no segments. */
  readonly segmentCount?: number;
  /** Idempotent producers' last batches, kept from every appended batch's header and across restarts. */
  readonly producerState: ProducerStateView;
  /**
   * Below this offset every transaction is decided (Kafka's last stable offset): the first offset of the
   * oldest transaction still open or whose marker is not yet committed, at most the high watermark.
   */
  readonly lastStableOffset: number;
  /** The aborted transactions overlapping [from, to) (lastOffset >= from, firstOffset < to), oldest marker first. */
  abortedTransactions(from: number, to: number): AbortedTransaction[];
  /** Appends one or more whole v2 batches. */
  append(batches: Buffer, options?: AppendOptions): Promise<AppendResult>;
  /**
   * Whole batches from the one containing `offset`, up to `maxBytes` but always at least one batch,
   * never past `maxOffset` (default: the high watermark). OFFSET_OUT_OF_RANGE outside [logStartOffset, logEndOffset].
   */
  read(offset: number, maxBytes: number, maxOffset?: number): Promise<ReadResult>;
  /** The first offset whose record timestamp is at least `timestamp`, if any. */
  offsetForTime(timestamp: number): Promise<OffsetAndTimestamp | undefined>;
  /** The first record carrying the largest timestamp below the high watermark, if any (Kafka's MAX_TIMESTAMP lookup). */
  offsetOfMaxTimestamp(): Promise<OffsetAndTimestamp | undefined>;
  /** Removes every batch that ends at or after `offset`. */
  truncateTo(offset: number): Promise<void>;
  /**
   * Makes `offset` (at most the high watermark) the log start offset and deletes the segments wholly below
   * it. With `durable`, the new log start survives a crash even when no segment was deleted (Kafka's
   * DeleteRecords); otherwise it is written with the next checkpoint.
   */
  deleteBefore(offset: number, options?: { durable?: boolean }): Promise<void>;
  /** Applies time and size retention; returns how many segments were deleted. */
  applyRetention(now: number): Promise<number>;
  /** For a compacted log (cleanupPolicy compact): its dirty part the cleaner may clean now, if any. */
  compactionState(now: number): CompactionState | undefined;
  /** For a compacted log: one cleaning pass now, whatever the dirty ratio; undefined if there is nothing to clean. */
  compact(now?: number): Promise<CompactionStats | undefined>;
  /** Closes the active segment and starts a new one at the log end offset. */
  roll(): Promise<void>;
  updateConfig(config: LogConfig): void;
  /** Calls `listener` whenever the high watermark moves; returns the unsubscribe function. */
  watch(listener: (highWatermark: number) => void): () => void;
  /**
   * Calls `listener` after every change of what the log reports of itself: log start, high watermark,
   * size, segments (metrics render a log's series again only then); returns the unsubscribe function.
   */
  onChange(listener: () => void): () => void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface LogId {
  topic: string;
  partition: number;
}

/** Where partition logs live. Core ships SegmentedStorageEngine; a plugin may provide its own. */
export interface StorageEngine {
  readonly durable: boolean;
  readonly description: string;
  open(): Promise<void>;
  /** The log (opened once, shared); it can also serve as a replica in cluster mode. */
  openLog(id: LogId, config: LogConfig): Promise<ReplicaLog>;
  /** Free bytes on the disk the logs live on; undefined (or absent) for storage without a disk. */
  freeBytes?(): Promise<number | undefined>;
  /** Logs present in storage, open or not. */
  listLogs(): Promise<LogId[]>;
  deleteLog(id: LogId): Promise<void>;
  close(): Promise<void>;
}
