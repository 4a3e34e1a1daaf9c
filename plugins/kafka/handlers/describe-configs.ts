import type { DescribeConfigsRequest, DescribeConfigsResponse, DescribeConfigsResponseDescribeConfigsResult } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';
import { describeTopicConfig } from '../topic-configs.ts';
import { CLUSTER_NAME } from '../security/acl-codes.ts';
import type { KafkaSession } from '../security/kafka-session.ts';

const RESOURCE = { topic: 2, broker: 4 } as const;
const SOURCE = { topic: 1, staticBroker: 4, default: 5 } as const;

/** Topics need DESCRIBE_CONFIGS on the topic, the broker DESCRIBE_CONFIGS on the cluster (Kafka's ConfigHelper). */
export const handleDescribeConfigs: Handler<DescribeConfigsRequest, DescribeConfigsResponse> = (ctx, request, _header, connection) => ({
  throttleTimeMs: 0,
  results: request.resources.map(
    (resource) => refused(connection.session, resource.resourceType, resource.resourceName) ?? describe(ctx, resource.resourceType, resource.resourceName, resource.configurationKeys),
  ),
});

function refused(session: KafkaSession, resourceType: number, resourceName: string): DescribeConfigsResponseDescribeConfigsResult | undefined {
  const deny = (errorCode: number, errorMessage: string) => ({ errorCode, errorMessage, resourceType, resourceName, configs: [] });
  if (resourceType === RESOURCE.topic && !session.allows('describe-configs', 'topic', resourceName)) return deny(KafkaError.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.');
  if (resourceType === RESOURCE.broker && !session.allows('describe-configs', 'cluster', CLUSTER_NAME)) return deny(KafkaError.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
  return undefined;
}

function describe(ctx: KafkaContext, resourceType: number, resourceName: string, keys: readonly string[] | null): DescribeConfigsResponseDescribeConfigsResult {
  const base = { errorCode: KafkaError.NONE, errorMessage: null, resourceType, resourceName };
  const entry = (name: string, value: string, isDefault: boolean, source: number) => ({
    name,
    value,
    readOnly: resourceType === RESOURCE.broker,
    isDefault,
    configSource: source,
    isSensitive: false,
    synonyms: [],
    configType: 0,
    documentation: null,
  });
  const wanted = (name: string) => keys === null || keys.length === 0 || keys.includes(name);
  if (resourceType === RESOURCE.topic) {
    const topic = ctx.visibleTopic(resourceName);
    if (!topic) return { ...base, errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic ${resourceName} does not exist`, configs: [] };
    return {
      ...base,
      configs: describeTopicConfig(topic.config, ctx.brokerConfig.topics)
        .filter((c) => wanted(c.name))
        .map((c) => entry(c.name, c.value, c.isDefault, c.isDefault ? SOURCE.default : SOURCE.topic)),
    };
  }
  if (resourceType === RESOURCE.broker) {
    const { topics } = ctx.brokerConfig;
    const broker: Array<[string, string]> = [
      ['broker.id', String(ctx.node.nodeId)],
      ['num.partitions', String(topics.partitions)],
      ['auto.create.topics.enable', String(ctx.settings.autoCreateTopics)],
      ['log.retention.ms', String(topics.retentionMs)],
      ['log.retention.bytes', String(topics.retentionBytes)],
      ['log.segment.bytes', String(topics.segmentBytes)],
      ['default.replication.factor', String(topics.replicationFactor)],
      ['min.insync.replicas', String(topics.minInsyncReplicas)],
      ['message.max.bytes', String(ctx.settings.maxMessageBytes)],
      ['socket.request.max.bytes', String(ctx.settings.maxRequestBytes)],
      ['group.initial.rebalance.delay.ms', String(ctx.brokerConfig.groups.initialRebalanceDelayMs)],
    ];
    return { ...base, configs: broker.filter(([name]) => wanted(name)).map(([name, value]) => entry(name, value, false, SOURCE.staticBroker)) };
  }
  return { ...base, errorCode: KafkaError.INVALID_REQUEST, errorMessage: `resource type ${resourceType} is not supported`, configs: [] };
}
