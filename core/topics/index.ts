export { INTERNAL_LOG_PREFIX, MetadataLog } from './metadata-log.ts';
export { checkTopicConfig, DEFAULT_MAX_MESSAGE_BYTES, logConfigFor, type TopicConfig } from './topic-config.ts';
export { checkTopicName, TopicRegistry, type CreateTopicOptions, type TopicDescriptor, type TopicEvent } from './topic-registry.ts';
export { LeaderShards, type Coordination, type LeaderShardsOptions } from './leader-shards.ts';
