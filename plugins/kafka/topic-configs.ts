import { BrokerError, formatFlushPolicy, type TopicConfig, type TopicDefaults } from '../../core/index.ts';

const LONG_MAX = '9223372036854775807';

interface Mapping {
  name: string;
  key: keyof TopicConfig;
  /** Kafka's LIST type: a comma-separated value that IncrementalAlterConfigs may APPEND to and SUBTRACT from. */
  list?: boolean;
  toCore(value: string): unknown;
  fromCore(config: TopicConfig, defaults: TopicDefaults): string;
}

/** Kafka's LONG and INT config values: decimal integers only (Number() would also take '', '0x10' or '1e3'). */
const integer = (value: string): number => (/^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN);

/** Kafka's DOUBLE config values: a plain decimal number. */
const decimal = (value: string): number => (/^\s*-?(\d+\.?\d*|\.\d+)\s*$/.test(value) ? Number(value) : Number.NaN);

/** A cleanup.policy list in the one order the core stores: 'compact,delete' for both, whatever order or repeats it came in. */
const cleanupPolicy = (value: string): string => [...new Set(listOf(value))].sort().join(',');

/** Kafka topic config names and how each maps onto the core's TopicConfig. */
const MAPPINGS: ReadonlyArray<Mapping> = [
  { name: 'retention.ms', key: 'retentionMs', toCore: integer, fromCore: (c, d) => String(c.retentionMs ?? d.retentionMs) },
  { name: 'retention.bytes', key: 'retentionBytes', toCore: integer, fromCore: (c, d) => String(c.retentionBytes ?? d.retentionBytes) },
  { name: 'segment.bytes', key: 'segmentBytes', toCore: integer, fromCore: (c, d) => String(c.segmentBytes ?? d.segmentBytes) },
  { name: 'segment.ms', key: 'segmentMs', toCore: integer, fromCore: (c, d) => String(c.segmentMs ?? d.segmentMs) },
  { name: 'index.interval.bytes', key: 'indexIntervalBytes', toCore: integer, fromCore: (c, d) => String(c.indexIntervalBytes ?? d.indexIntervalBytes) },
  { name: 'cleanup.policy', key: 'cleanupPolicy', list: true, toCore: cleanupPolicy, fromCore: (c) => c.cleanupPolicy ?? 'delete' },
  { name: 'min.cleanable.dirty.ratio', key: 'minCleanableDirtyRatio', toCore: decimal, fromCore: (c) => String(c.minCleanableDirtyRatio ?? 0.5) },
  { name: 'min.compaction.lag.ms', key: 'minCompactionLagMs', toCore: integer, fromCore: (c) => String(c.minCompactionLagMs ?? 0) },
  {
    name: 'max.compaction.lag.ms',
    key: 'maxCompactionLagMs',
    toCore: (v) => (v.trim() === LONG_MAX ? Number.MAX_SAFE_INTEGER : integer(v)),
    fromCore: (c) => (c.maxCompactionLagMs === undefined || c.maxCompactionLagMs >= Number.MAX_SAFE_INTEGER ? LONG_MAX : String(c.maxCompactionLagMs)),
  },
  { name: 'delete.retention.ms', key: 'deleteRetentionMs', toCore: integer, fromCore: (c) => String(c.deleteRetentionMs ?? 86_400_000) },
  { name: 'message.timestamp.type', key: 'messageTimestampType', toCore: (v) => v, fromCore: (c) => c.messageTimestampType ?? 'CreateTime' },
  { name: 'max.message.bytes', key: 'maxMessageBytes', toCore: integer, fromCore: (c) => String(c.maxMessageBytes ?? 1_048_588) },
  { name: 'min.insync.replicas', key: 'minInsyncReplicas', toCore: integer, fromCore: (c, d) => String(c.minInsyncReplicas ?? d.minInsyncReplicas) },
  {
    name: 'flush.messages',
    key: 'flush',
    toCore: (v) => (integer(v) === 1 ? 'always' : 'never'),
    fromCore: (c, d) => ((c.flush ?? d.flush).kind === 'always' ? '1' : LONG_MAX),
  },
  {
    name: 'flush.ms',
    key: 'flush',
    toCore: (v) => (v === LONG_MAX ? 'never' : `interval:${integer(v)}`),
    fromCore: (c, d) => {
      const flush = c.flush ?? d.flush;
      return flush.kind === 'interval' ? String(flush.ms) : LONG_MAX;
    },
  },
  { name: 'wharf.flush', key: 'flush', toCore: (v) => v, fromCore: (c, d) => formatFlushPolicy(c.flush ?? d.flush) },
];

export const KAFKA_TOPIC_CONFIG_NAMES = MAPPINGS.map((m) => m.name);

/** Kafka-named configs as a core TopicConfig record; INVALID_TOPIC_CONFIG names the first unknown one. */
export function topicConfigFromKafka(entries: ReadonlyArray<{ name: string; value: string | null }>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { name, value } of entries) {
    const mapping = mappingOf(name);
    if (value === null) continue;
    out[mapping.key] = mapping.toCore(value);
  }
  return out;
}

/** IncrementalAlterConfigs' operations (AlterConfigOp.OpType ids). */
export const ConfigOperation = { set: 0, delete: 1, append: 2, subtract: 3 } as const;

/**
 * A topic's overrides after Kafka's incremental operations (ConfigurationControlManager.incrementalAlterConfigResource):
 * SET and DELETE one value; APPEND and SUBTRACT items of a LIST value, starting from its effective value.
 * INVALID_TOPIC_CONFIG for an unknown name, an unknown operation, or a list operation on a value that is not a list.
 */
export function alterTopicConfig(
  current: TopicConfig,
  defaults: TopicDefaults,
  alterations: ReadonlyArray<{ name: string; configOperation: number; value: string | null }>,
): Record<string, unknown> {
  const next: Record<string, unknown> = { ...current };
  for (const { name, configOperation, value } of alterations) {
    const mapping = mappingOf(name);
    switch (configOperation) {
      case ConfigOperation.set:
        next[mapping.key] = mapping.toCore(value ?? '');
        break;
      case ConfigOperation.delete:
        delete next[mapping.key];
        break;
      case ConfigOperation.append:
      case ConfigOperation.subtract: {
        const verb = configOperation === ConfigOperation.append ? 'APPEND' : 'SUBTRACT';
        if (!mapping.list) throw new BrokerError('INVALID_TOPIC_CONFIG', `Can't ${verb} to key ${name} because its type is not LIST.`);
        const items = listOf(mapping.fromCore(next as TopicConfig, defaults));
        const given = (value ?? '').split(',');
        const changed = verb === 'APPEND' ? [...items, ...given.filter((v) => !items.includes(v))] : items.filter((v) => !given.includes(v));
        next[mapping.key] = mapping.toCore(changed.join(','));
        break;
      }
      default:
        throw new BrokerError('INVALID_TOPIC_CONFIG', `unknown config operation ${configOperation} for ${name}`);
    }
  }
  return next;
}

/** Every supported topic config with its effective value and whether it is a topic override. */
export function describeTopicConfig(config: TopicConfig, defaults: TopicDefaults): Array<{ name: string; value: string; isDefault: boolean }> {
  return MAPPINGS.map((m) => ({ name: m.name, value: m.fromCore(config, defaults), isDefault: config[m.key] === undefined }));
}

function mappingOf(name: string): Mapping {
  const mapping = MAPPINGS.find((m) => m.name === name);
  if (!mapping) throw new BrokerError('INVALID_TOPIC_CONFIG', `Unknown or unsupported topic config name: ${name}`);
  return mapping;
}

function listOf(value: string): string[] {
  return value.split(',').map((v) => v.trim()).filter((v) => v !== '');
}
