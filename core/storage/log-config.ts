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
  return config;
}
