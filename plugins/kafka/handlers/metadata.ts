import { BrokerError, type TopicDescriptor } from '../../../core/index.ts';
import type { MetadataRequest, MetadataResponse, MetadataResponseMetadataResponseTopic } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';
import { checkKafkaTopicName } from '../kafka-names.ts';

const NO_TOPIC_ID = Buffer.alloc(16);
const UNKNOWN_OPERATIONS = -2147483648;

/**
 * The live brokers, the controller, and each partition's leader, epoch, replicas and ISR as the cluster
 * knows them (on a single node: this broker for everything). Unknown topics are created when allowed.
 */
export const handleMetadata: Handler<MetadataRequest, MetadataResponse> = async (ctx, request, header, connection) => {
  const version = header.apiVersion;
  const all = request.topics === null || (version === 0 && request.topics.length === 0);
  const names = all ? ctx.topics.list().map((t) => t.name) : request.topics!.map((t) => t.name ?? '');
  const allowCreate = ctx.settings.autoCreateTopics && (version < 4 || request.allowAutoTopicCreation);
  const topics: MetadataResponseMetadataResponseTopic[] = [];
  for (const name of names) topics.push(await describeTopic(ctx, name, allowCreate && !all));
  return {
    throttleTimeMs: 0,
    brokers: ctx.liveBrokers(connection.listener).map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: null })),
    clusterId: ctx.clusterId,
    controllerId: ctx.cluster.controllerId(),
    topics,
    clusterAuthorizedOperations: UNKNOWN_OPERATIONS,
  };
};

async function describeTopic(ctx: KafkaContext, name: string, allowCreate: boolean): Promise<MetadataResponseMetadataResponseTopic> {
  let topic: TopicDescriptor | undefined = ctx.visibleTopic(name);
  if (!topic && allowCreate && !ctx.topics.get(name)) {
    try {
      checkKafkaTopicName(name);
      topic = await ctx.topics.create(name, { replicated: true });
      ctx.logger.info({ topic: name, partitions: topic.partitions }, 'auto-created a topic');
    } catch (err) {
      if (BrokerError.is(err, 'TOPIC_EXISTS')) topic = ctx.visibleTopic(name);
      else return failedTopic(name, kafkaErrorOf(err));
    }
  }
  if (!topic) return failedTopic(name, KafkaError.UNKNOWN_TOPIC_OR_PARTITION);
  const live = new Set(ctx.cluster.members().map((m) => m.nodeId));
  return {
    errorCode: KafkaError.NONE,
    name,
    topicId: NO_TOPIC_ID,
    isInternal: false,
    partitions: Array.from({ length: topic.partitions }, (_, partitionIndex) => {
      const state = ctx.cluster.partitionState(name, partitionIndex);
      if (!state) {
        const self = ctx.node.nodeId;
        return { errorCode: KafkaError.NONE, partitionIndex, leaderId: self, leaderEpoch: 0, replicaNodes: [self], isrNodes: [self], offlineReplicas: [] };
      }
      return {
        errorCode: state.leader < 0 ? KafkaError.LEADER_NOT_AVAILABLE : KafkaError.NONE,
        partitionIndex,
        leaderId: state.leader,
        leaderEpoch: state.leaderEpoch,
        replicaNodes: [...state.replicas],
        isrNodes: state.isr.map(([id]) => id),
        offlineReplicas: state.replicas.filter((id) => !live.has(id)),
      };
    }),
    topicAuthorizedOperations: UNKNOWN_OPERATIONS,
  };
}

function failedTopic(name: string, errorCode: number): MetadataResponseMetadataResponseTopic {
  return { errorCode, name, topicId: NO_TOPIC_ID, isInternal: false, partitions: [], topicAuthorizedOperations: UNKNOWN_OPERATIONS };
}
