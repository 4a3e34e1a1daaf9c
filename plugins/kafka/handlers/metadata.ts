import { BrokerError, type TopicDescriptor } from '../../../core/index.ts';
import type { MetadataRequest, MetadataResponse, MetadataResponseMetadataResponseTopic } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';
import { checkKafkaTopicName } from '../kafka-names.ts';

const NO_TOPIC_ID = Buffer.alloc(16);
const UNKNOWN_OPERATIONS = -2147483648;

/** This broker is every partition's leader and the controller; unknown topics are created when allowed. */
export const handleMetadata: Handler<MetadataRequest, MetadataResponse> = async (ctx, request, header) => {
  const version = header.apiVersion;
  const all = request.topics === null || (version === 0 && request.topics.length === 0);
  const names = all ? ctx.topics.list().map((t) => t.name) : request.topics!.map((t) => t.name ?? '');
  const allowCreate = ctx.settings.autoCreateTopics && (version < 4 || request.allowAutoTopicCreation);
  const topics: MetadataResponseMetadataResponseTopic[] = [];
  for (const name of names) topics.push(await describeTopic(ctx, name, allowCreate && !all));
  const { nodeId, host, port } = ctx.node;
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId, host, port, rack: null }],
    clusterId: ctx.clusterId,
    controllerId: nodeId,
    topics,
    clusterAuthorizedOperations: UNKNOWN_OPERATIONS,
  };
};

async function describeTopic(ctx: KafkaContext, name: string, allowCreate: boolean): Promise<MetadataResponseMetadataResponseTopic> {
  let topic: TopicDescriptor | undefined = ctx.visibleTopic(name);
  if (!topic && allowCreate && !ctx.topics.get(name)) {
    try {
      checkKafkaTopicName(name);
      topic = await ctx.topics.create(name);
      ctx.logger.info({ topic: name, partitions: topic.partitions }, 'auto-created a topic');
    } catch (err) {
      if (BrokerError.is(err, 'TOPIC_EXISTS')) topic = ctx.visibleTopic(name);
      else return failedTopic(name, kafkaErrorOf(err));
    }
  }
  if (!topic) return failedTopic(name, KafkaError.UNKNOWN_TOPIC_OR_PARTITION);
  const leader = ctx.node.nodeId;
  return {
    errorCode: KafkaError.NONE,
    name,
    topicId: NO_TOPIC_ID,
    isInternal: false,
    partitions: Array.from({ length: topic.partitions }, (_, partitionIndex) => ({
      errorCode: KafkaError.NONE,
      partitionIndex,
      leaderId: leader,
      leaderEpoch: 0,
      replicaNodes: [leader],
      isrNodes: [leader],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: UNKNOWN_OPERATIONS,
  };
}

function failedTopic(name: string, errorCode: number): MetadataResponseMetadataResponseTopic {
  return { errorCode, name, topicId: NO_TOPIC_ID, isInternal: false, partitions: [], topicAuthorizedOperations: UNKNOWN_OPERATIONS };
}
