import { BrokerError, type TopicDescriptor } from '../../../core/index.ts';
import type { MetadataRequest, MetadataResponse, MetadataResponseMetadataResponseTopic } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';
import { checkKafkaTopicName } from '../kafka-names.ts';
import { authorizedOperations, CLUSTER_NAME } from '../security/acl-codes.ts';
import type { KafkaSession } from '../security/kafka-session.ts';
import { NO_TOPIC_ID, topicIdBytes } from '../topic-ids.ts';

const UNKNOWN_OPERATIONS = -2147483648;

/**
 * The live brokers, the controller, and each partition's leader, epoch, replicas and ISR as the cluster
 * knows them (on a single node: this broker for everything). Unknown topics are created when allowed.
 * As Kafka: a listing of all topics leaves out those the principal may not DESCRIBE, a named one gets
 * TOPIC_AUTHORIZATION_FAILED (whether it exists or not), and auto-creation needs CREATE on the cluster
 * or the topic.
 */
export const handleMetadata: Handler<MetadataRequest, MetadataResponse> = async (ctx, request, header, connection) => {
  const session = connection.session;
  const version = header.apiVersion;
  const all = request.topics === null || (version === 0 && request.topics.length === 0);
  // Kafka refuses these before anything else; its error response cannot carry a null name, and the connection closes.
  if (!all && version < 12 && request.topics!.some((t) => t.name === null)) throw new BrokerError('MALFORMED_INPUT', `Topic name can not be null for version ${version}`);
  const byId = !all && request.topics!.some((t) => !t.topicId.equals(NO_TOPIC_ID));
  if (byId && version < 12) return { ...emptyResponse(ctx), topics: request.topics!.map((t) => ({ ...failedTopic(t.name, KafkaError.INVALID_REQUEST), topicId: t.topicId })) };
  if (byId) {
    const response = await describeByIds(ctx, request.topics!.map((t) => t.topicId), session, connection.listener);
    if (request.includeTopicAuthorizedOperations) {
      for (const topic of response.topics) if (topic.errorCode === KafkaError.NONE) topic.topicAuthorizedOperations = authorizedOperations('topic', (op) => session.allows(op, 'topic', topic.name!));
    }
    return response;
  }
  const requested = all ? ctx.topics.list().map((t) => t.name) : [...new Set(request.topics!.map((t) => t.name ?? ''))];
  const described = requested.filter((name) => session.allows('describe', 'topic', name));
  const allowCreate = ctx.settings.autoCreateTopics && (version < 4 || request.allowAutoTopicCreation) && !all;
  const topics: MetadataResponseMetadataResponseTopic[] = [];
  const createRefused: MetadataResponseMetadataResponseTopic[] = [];
  for (const name of described) {
    const creatable = allowCreate && !ctx.topics.get(name) && mayCreate(session, name);
    if (allowCreate && !creatable && !ctx.topics.get(name)) createRefused.push(failedTopic(name, KafkaError.TOPIC_AUTHORIZATION_FAILED));
    else topics.push(await describeTopic(ctx, name, creatable));
  }
  topics.push(...createRefused);
  const describedSet = new Set(described);
  if (!all) for (const name of requested) if (!describedSet.has(name)) topics.push(failedTopic(name, KafkaError.TOPIC_AUTHORIZATION_FAILED));
  if (version >= 8 && request.includeTopicAuthorizedOperations) {
    for (const topic of topics) topic.topicAuthorizedOperations = authorizedOperations('topic', (op) => session.allows(op, 'topic', topic.name!));
  }
  return {
    ...emptyResponse(ctx, connection.listener),
    topics,
    clusterAuthorizedOperations:
      version >= 8 && request.includeClusterAuthorizedOperations
        ? session.allows('describe', 'cluster', CLUSTER_NAME)
          ? authorizedOperations('cluster', (op) => session.allows(op, 'cluster', CLUSTER_NAME))
          : 0
        : UNKNOWN_OPERATIONS,
  };
};

function emptyResponse(ctx: KafkaContext, listener = ''): MetadataResponse {
  return {
    throttleTimeMs: 0,
    brokers: listener === '' ? [] : ctx.liveBrokers(listener).map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: null })),
    clusterId: ctx.clusterId,
    controllerId: ctx.cluster.controllerId(),
    topics: [],
    clusterAuthorizedOperations: UNKNOWN_OPERATIONS,
  };
}

/**
 * v12 topics named by id (KIP-516), as Kafka: an unknown id is UNKNOWN_TOPIC_ID, one the principal may not
 * DESCRIBE is TOPIC_AUTHORIZATION_FAILED without its name; nothing is auto-created.
 */
async function describeByIds(ctx: KafkaContext, ids: Buffer[], session: KafkaSession, listener: string): Promise<MetadataResponse> {
  const topics: MetadataResponseMetadataResponseTopic[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    if (id.equals(NO_TOPIC_ID) || seen.has(id.toString('hex'))) continue;
    seen.add(id.toString('hex'));
    const name = ctx.topicIds.nameOf(id);
    if (name === undefined || !ctx.visibleTopic(name)) topics.push({ ...failedTopic(null, KafkaError.UNKNOWN_TOPIC_ID), topicId: id });
    else if (!session.allows('describe', 'topic', name)) topics.push({ ...failedTopic(null, KafkaError.TOPIC_AUTHORIZATION_FAILED), topicId: id });
    else topics.push(await describeTopic(ctx, name, false));
  }
  return { ...emptyResponse(ctx, listener), topics };
}

function mayCreate(session: KafkaSession, topic: string): boolean {
  return session.allows('create', 'cluster', CLUSTER_NAME) || session.allows('create', 'topic', topic);
}

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
    topicId: topicIdBytes(topic.id),
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

function failedTopic(name: string | null, errorCode: number): MetadataResponseMetadataResponseTopic {
  return { errorCode, name, topicId: NO_TOPIC_ID, isInternal: false, partitions: [], topicAuthorizedOperations: UNKNOWN_OPERATIONS };
}
