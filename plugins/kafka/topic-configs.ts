import { BrokerError, formatFlushPolicy, type TopicConfig, type TopicDefaults } from '../../core/index.ts';

const LONG_MAX = '9223372036854775807';

/** Kafka topic config names and how each maps onto the core's TopicConfig. */
const MAPPINGS: ReadonlyArray<{ name: string; key: keyof TopicConfig; toCore(value: string): unknown; fromCore(config: TopicConfig, defaults: TopicDefaults): string }> = [
  { name: 'retention.ms', key: 'retentionMs', toCore: Number, fromCore: (c, d) => String(c.retentionMs ?? d.retentionMs) },
  { name: 'retention.bytes', key: 'retentionBytes', toCore: Number, fromCore: (c, d) => String(c.retentionBytes ?? d.retentionBytes) },
  { name: 'segment.bytes', key: 'segmentBytes', toCore: Number, fromCore: (c, d) => String(c.segmentBytes ?? d.segmentBytes) },
  { name: 'segment.ms', key: 'segmentMs', toCore: Number, fromCore: (c, d) => String(c.segmentMs ?? d.segmentMs) },
  { name: 'index.interval.bytes', key: 'indexIntervalBytes', toCore: Number, fromCore: (c, d) => String(c.indexIntervalBytes ?? d.indexIntervalBytes) },
  { name: 'cleanup.policy', key: 'cleanupPolicy', toCore: (v) => v, fromCore: (c) => c.cleanupPolicy ?? 'delete' },
  { name: 'message.timestamp.type', key: 'messageTimestampType', toCore: (v) => v, fromCore: (c) => c.messageTimestampType ?? 'CreateTime' },
  { name: 'max.message.bytes', key: 'maxMessageBytes', toCore: Number, fromCore: (c) => String(c.maxMessageBytes ?? 1_048_588) },
  { name: 'min.insync.replicas', key: 'minInsyncReplicas', toCore: Number, fromCore: (c, d) => String(c.minInsyncReplicas ?? d.minInsyncReplicas) },
  {
    name: 'flush.messages',
    key: 'flush',
    toCore: (v) => (Number(v) === 1 ? 'always' : 'never'),
    fromCore: (c, d) => ((c.flush ?? d.flush).kind === 'always' ? '1' : LONG_MAX),
  },
  {
    name: 'flush.ms',
    key: 'flush',
    toCore: (v) => (v === LONG_MAX ? 'never' : `interval:${Number(v)}`),
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
    const mapping = MAPPINGS.find((m) => m.name === name);
    if (!mapping) throw new BrokerError('INVALID_TOPIC_CONFIG', `unknown or unsupported topic config ${name}`);
    if (value === null) continue;
    out[mapping.key] = mapping.toCore(value);
  }
  return out;
}

/** Every supported topic config with its effective value and whether it is a topic override. */
export function describeTopicConfig(config: TopicConfig, defaults: TopicDefaults): Array<{ name: string; value: string; isDefault: boolean }> {
  return MAPPINGS.map((m) => ({ name: m.name, value: m.fromCore(config, defaults), isDefault: config[m.key] === undefined }));
}
