import { BrokerError } from '../../../core/index.ts';
import type { CreateTopicsRequest, CreateTopicsRequestCreatableTopic, CreateTopicsResponse, CreateTopicsResponseCreatableTopicResult } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';
import { checkKafkaTopicName } from '../kafka-names.ts';
import { CLUSTER_NAME } from '../security/acl-codes.ts';
import type { KafkaSession } from '../security/kafka-session.ts';
import { describeTopicConfig, topicConfigFromKafka } from '../topic-configs.ts';
import { NO_TOPIC_ID, topicIdBytes } from '../topic-ids.ts';

const CONFIG_SOURCE = { topic: 1, default: 5 } as const;

/**
 * Creates topics with Kafka-named configs and a replication factor (-1: the default); in a cluster,
 * cluster topics. Needs CREATE on the cluster or the topic; the configs are answered only with
 * DESCRIBE_CONFIGS on the topic.
 */
export const handleCreateTopics: Handler<CreateTopicsRequest, CreateTopicsResponse> = async (ctx, request, _header, connection) => {
  const session = connection.session;
  const anyTopic = session.allows('create', 'cluster', CLUSTER_NAME);
  const topics: CreateTopicsResponseCreatableTopicResult[] = [];
  for (const topic of request.topics) topics.push(await create(ctx, session, anyTopic, topic, request.validateOnly));
  return { throttleTimeMs: 0, topics };
};

async function create(ctx: KafkaContext, session: KafkaSession, anyTopic: boolean, topic: CreateTopicsRequestCreatableTopic, validateOnly: boolean): Promise<CreateTopicsResponseCreatableTopicResult> {
  const result = (errorCode: number, errorMessage: string | null, partitions = -1, replicationFactor = -1): CreateTopicsResponseCreatableTopicResult => ({
    name: topic.name,
    topicId: NO_TOPIC_ID,
    errorCode,
    errorMessage,
    topicConfigErrorCode: KafkaError.NONE,
    numPartitions: partitions,
    replicationFactor,
    configs: null,
  });
  const describeConfigs = session.allows('describe-configs', 'topic', topic.name);
  const configsRefused = describeConfigs ? KafkaError.NONE : KafkaError.TOPIC_AUTHORIZATION_FAILED;
  if (!anyTopic && !session.allows('create', 'topic', topic.name)) return { ...result(KafkaError.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.'), topicConfigErrorCode: configsRefused };
  try {
    checkKafkaTopicName(topic.name);
    if (topic.assignments.length > 0 && (ctx.cluster.clustered || topic.assignments.some((a) => a.brokerIds.some((id) => id !== ctx.node.nodeId)))) {
      return result(KafkaError.INVALID_REPLICA_ASSIGNMENT, ctx.cluster.clustered ? 'manual replica assignments are not supported; replicas are placed by the cluster' : `only broker ${ctx.node.nodeId} exists`);
    }
    const partitions = topic.assignments.length > 0 ? topic.assignments.length : topic.numPartitions === -1 ? undefined : topic.numPartitions;
    const replicationFactor = topic.replicationFactor === -1 ? undefined : topic.replicationFactor;
    const created = await ctx.topics.create(topic.name, { partitions, config: topicConfigFromKafka(topic.configs), validateOnly, replicated: true, replicationFactor });
    // v7+ (KIP-516): the new topic's id.
    const topicId = topicIdBytes(created.id);
    if (!describeConfigs) return { ...result(KafkaError.NONE, null), topicId, topicConfigErrorCode: configsRefused };
    const factor = ctx.cluster.partitionState(topic.name, 0)?.replicas.length ?? replicationFactor ?? (ctx.cluster.clustered ? Math.min(ctx.brokerConfig.topics.replicationFactor, ctx.cluster.members().length) : 1);
    return {
      ...result(KafkaError.NONE, null, created.partitions, factor),
      topicId,
      configs: describeTopicConfig(created.config, ctx.brokerConfig.topics).map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: false,
        configSource: c.isDefault ? CONFIG_SOURCE.default : CONFIG_SOURCE.topic,
        isSensitive: false,
      })),
    };
  } catch (err) {
    if (!BrokerError.is(err)) ctx.logger.error({ err, topic: topic.name }, 'topic creation failed');
    return { ...result(kafkaErrorOf(err), (err as Error).message), topicConfigErrorCode: configsRefused };
  }
}
