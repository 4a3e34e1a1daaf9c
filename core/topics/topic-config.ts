import type { TopicDefaults } from '../config.ts';
import { BrokerError } from '../errors.ts';
import { checkLogConfig, formatFlushPolicy, parseFlushPolicy, type CleanupPolicy, type CompactionConfig, type FlushPolicy, type LogConfig } from '../storage/log-config.ts';

/** Per-topic overrides of the broker's topic defaults. Protocol plugins map their own names onto these. */
export interface TopicConfig {
  retentionMs?: number;
  retentionBytes?: number;
  segmentBytes?: number;
  segmentMs?: number;
  indexIntervalBytes?: number;
  flush?: FlushPolicy;
  /** Kafka's list, in one order. */
  cleanupPolicy?: CleanupPolicy;
  minCleanableDirtyRatio?: number;
  minCompactionLagMs?: number;
  maxCompactionLagMs?: number;
  deleteRetentionMs?: number;
  messageTimestampType?: 'CreateTime' | 'LogAppendTime';
  /** Largest record batch a producer may append. */
  maxMessageBytes?: number;
  /** acks=all appends are refused while fewer replicas are in sync. */
  minInsyncReplicas?: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 + 12;

const integerKeys = [
  'retentionMs',
  'retentionBytes',
  'segmentBytes',
  'segmentMs',
  'indexIntervalBytes',
  'maxMessageBytes',
  'minInsyncReplicas',
  'minCompactionLagMs',
  'maxCompactionLagMs',
  'deleteRetentionMs',
] as const;

/** Validates an untrusted config object (from a client or a file) into a TopicConfig. */
export function checkTopicConfig(raw: Readonly<Record<string, unknown>>): TopicConfig {
  const config: TopicConfig = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if ((integerKeys as readonly string[]).includes(key)) {
      const n = typeof value === 'string' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw invalid(key, value);
      config[key as (typeof integerKeys)[number]] = n;
    } else if (key === 'minCleanableDirtyRatio') {
      const n = typeof value === 'string' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw invalid(key, value);
      config.minCleanableDirtyRatio = n;
    } else if (key === 'flush') {
      config.flush = typeof value === 'string' ? parseFlushPolicy(value) : parseFlushPolicy(formatFlushPolicy(value as FlushPolicy));
    } else if (key === 'cleanupPolicy') {
      if (value !== 'delete' && value !== 'compact' && value !== 'compact,delete') throw invalid(key, value);
      config.cleanupPolicy = value;
    } else if (key === 'messageTimestampType') {
      if (value !== 'CreateTime' && value !== 'LogAppendTime') throw invalid(key, value);
      config.messageTimestampType = value;
    } else {
      throw new BrokerError('INVALID_TOPIC_CONFIG', `unknown topic configuration ${key}`);
    }
  }
  if (config.maxMessageBytes !== undefined && config.maxMessageBytes < 0) throw invalid('maxMessageBytes', config.maxMessageBytes);
  checkLogConfig(logConfigFor(config, undefined));
  return config;
}

/** The log configuration a topic's partitions run with: its overrides over the broker defaults. */
export function logConfigFor(config: TopicConfig, defaults: TopicDefaults | undefined): LogConfig {
  const base: LogConfig = defaults ?? {
    segmentBytes: 1024 * 1024 * 1024,
    segmentMs: 7 * 24 * 3600 * 1000,
    retentionMs: -1,
    retentionBytes: -1,
    indexIntervalBytes: 4096,
    flush: { kind: 'always' },
  };
  return {
    segmentBytes: config.segmentBytes ?? base.segmentBytes,
    segmentMs: config.segmentMs ?? base.segmentMs,
    retentionMs: config.retentionMs ?? base.retentionMs,
    retentionBytes: config.retentionBytes ?? base.retentionBytes,
    indexIntervalBytes: config.indexIntervalBytes ?? base.indexIntervalBytes,
    flush: config.flush ?? base.flush,
    minInsyncReplicas: config.minInsyncReplicas ?? base.minInsyncReplicas ?? 1,
    ...(config.cleanupPolicy !== undefined && { cleanupPolicy: config.cleanupPolicy }),
    ...(hasCompactionSettings(config) && { compaction: compactionSettingsOf(config) }),
  };
}

const compactionKeys = ['minCleanableDirtyRatio', 'minCompactionLagMs', 'maxCompactionLagMs', 'deleteRetentionMs'] as const;

function hasCompactionSettings(config: TopicConfig): boolean {
  return compactionKeys.some((key) => config[key] !== undefined);
}

function compactionSettingsOf(config: TopicConfig): Partial<CompactionConfig> {
  const settings: Partial<CompactionConfig> = {};
  for (const key of compactionKeys) if (config[key] !== undefined) settings[key] = config[key];
  return settings;
}

function invalid(key: string, value: unknown): BrokerError {
  return new BrokerError('INVALID_TOPIC_CONFIG', `topic configuration ${key} = ${JSON.stringify(value)} is not valid`);
}
