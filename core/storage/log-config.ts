import { BrokerError } from '../errors.ts';

export type FlushPolicy = { kind: 'always' } | { kind: 'interval'; ms: number } | { kind: 'never' };

export interface LogConfig {
  /** Roll the active segment once it would exceed this size. */
  segmentBytes: number;
  /** Roll the active segment once it is this old. */
  segmentMs: number;
  /** Delete segments whose newest record is older than this; -1 keeps them forever. */
  retentionMs: number;
  /** Delete the oldest segments while the log exceeds this size; -1 means no limit. */
  retentionBytes: number;
  /** Bytes between sparse offset-index entries. */
  indexIntervalBytes: number;
  flush: FlushPolicy;
  /** acks=all appends are refused while fewer replicas than this are in sync (default 1). */
  minInsyncReplicas?: number;
  /** Kafka's cleanup.policy: retention deletes old segments, compaction keeps the latest record per key (default delete). */
  cleanupPolicy?: CleanupPolicy;
  /** Compaction's settings, Kafka's defaults where absent. */
  compaction?: Partial<CompactionConfig>;
}

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

export interface CompactionConfig {
  /** A log is cleaned once dirty bytes are at least this share of the cleanable bytes (min.cleanable.dirty.ratio). */
  minCleanableDirtyRatio: number;
  /** Records stay uncompacted at least this long after they were written (min.compaction.lag.ms). */
  minCompactionLagMs: number;
  /** A dirty record older than this is cleaned whatever the dirty ratio (max.compaction.lag.ms). */
  maxCompactionLagMs: number;
  /** Tombstones are kept this long after their segment was cleaned, so consumers see deletions (delete.retention.ms). */
  deleteRetentionMs: number;
}

export const defaultCompactionConfig: Readonly<CompactionConfig> = Object.freeze({
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  deleteRetentionMs: 24 * 60 * 60 * 1000,
});

export function compactionConfigOf(config: LogConfig): CompactionConfig {
  return { ...defaultCompactionConfig, ...config.compaction };
}

/** Whether a log's records are compacted by key. */
export function isCompacted(config: LogConfig): boolean {
  return config.cleanupPolicy === 'compact' || config.cleanupPolicy === 'compact,delete';
}

/** Whether time and size retention delete a log's old segments. */
export function isDeletedByRetention(config: LogConfig): boolean {
  return config.cleanupPolicy === undefined || config.cleanupPolicy !== 'compact';
}

const DAY_MS = 24 * 60 * 60 * 1000;
export const MAX_SEGMENT_BYTES = 2 ** 31 - 1;

const defaults: LogConfig = {
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * DAY_MS,
  retentionMs: 7 * DAY_MS,
  retentionBytes: -1,
  indexIntervalBytes: 4096,
  flush: { kind: 'always' },
};
export const defaultLogConfig: Readonly<LogConfig> = Object.freeze(defaults);

/** Parses `always`, `never` or `interval:<ms>`. */
export function parseFlushPolicy(text: string): FlushPolicy {
  if (text === 'always' || text === 'never') return { kind: text };
  const match = /^interval:(\d+)$/.exec(text);
  if (match && Number(match[1]) > 0) return { kind: 'interval', ms: Number(match[1]) };
  throw new BrokerError('CONFIG_INVALID', `flush policy must be always, never or interval:<ms>, not ${JSON.stringify(text)}`);
}

export function formatFlushPolicy(policy: FlushPolicy): string {
  return policy.kind === 'interval' ? `interval:${policy.ms}` : policy.kind;
}

export function checkLogConfig(config: LogConfig): LogConfig {
  const fail = (message: string): never => {
    throw new BrokerError('INVALID_TOPIC_CONFIG', message);
  };
  if (!Number.isInteger(config.segmentBytes) || config.segmentBytes < 1024 || config.segmentBytes > MAX_SEGMENT_BYTES) {
    fail(`segmentBytes must be an integer in [1024, ${MAX_SEGMENT_BYTES}]`);
  }
  if (!(config.segmentMs >= 1)) fail('segmentMs must be at least 1');
  if (!(config.retentionMs === -1 || config.retentionMs >= 0)) fail('retentionMs must be -1 or non-negative');
  if (!(config.retentionBytes === -1 || config.retentionBytes >= 0)) fail('retentionBytes must be -1 or non-negative');
  if (!Number.isInteger(config.indexIntervalBytes) || config.indexIntervalBytes < 1) fail('indexIntervalBytes must be a positive integer');
  if (config.minInsyncReplicas !== undefined && (!Number.isInteger(config.minInsyncReplicas) || config.minInsyncReplicas < 1)) {
    fail('minInsyncReplicas must be a positive integer');
  }
  if (config.cleanupPolicy !== undefined && !['delete', 'compact', 'compact,delete'].includes(config.cleanupPolicy)) fail('cleanupPolicy must be delete, compact or compact,delete');
  const compaction = compactionConfigOf(config);
  if (!(compaction.minCleanableDirtyRatio >= 0 && compaction.minCleanableDirtyRatio <= 1)) fail('minCleanableDirtyRatio must be in [0, 1]');
  if (!(compaction.minCompactionLagMs >= 0)) fail('minCompactionLagMs must be non-negative');
  if (!(compaction.maxCompactionLagMs >= 1)) fail('maxCompactionLagMs must be positive');
  if (!(compaction.deleteRetentionMs >= 0)) fail('deleteRetentionMs must be non-negative');
  return config;
}
