import type { TopicPartition } from '../../../core/index.ts';
import type { OffsetDeleteRequest, OffsetDeleteResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorFor, kafkaErrorOf } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

/**
 * Deletes a group's committed offsets of some partitions (KafkaApis.handleOffsetDeleteRequest): unknown
 * partitions get UNKNOWN_TOPIC_OR_PARTITION, topics the group's members subscribe to GROUP_SUBSCRIBED_TO_TOPIC,
 * and a group error (unknown, not empty, not coordinated here) answers the whole request. Needs DELETE on
 * the group (GROUP_AUTHORIZATION_FAILED) and READ on each topic (TOPIC_AUTHORIZATION_FAILED).
 */
export const handleOffsetDelete: Handler<OffsetDeleteRequest, OffsetDeleteResponse> = async (ctx, request, _header, connection) => {
  const failed = (errorCode: number): OffsetDeleteResponse => ({ errorCode, throttleTimeMs: 0, topics: [] });
  const session = connection.session;
  if (!session.allows('delete', 'group', request.groupId)) return failed(KafkaError.GROUP_AUTHORIZATION_FAILED);
  if (request.groupId === '') return failed(KafkaError.INVALID_GROUP_ID);
  const refused = ctx.coordinatorError(request.groupId);
  if (refused !== undefined) return failed(refused);
  const readable = request.topics.map((t) => session.allows('read', 'topic', t.name));
  const partitionCounts = request.topics.map((t, i) => (readable[i] ? (ctx.visibleTopic(t.name)?.partitions ?? 0) : 0));
  const exists = (topic: number, partition: number) => partition >= 0 && partition < partitionCounts[topic]!;
  const known: TopicPartition[] = request.topics.flatMap((t, i) => t.partitions.filter((p) => exists(i, p.partitionIndex)).map((p) => ({ topic: t.name, partition: p.partitionIndex })));
  let subscribed: ReadonlySet<string>;
  try {
    const outcome = await ctx.coordinator.deleteOffsets(request.groupId, known);
    if ('error' in outcome) return failed(kafkaErrorFor(outcome.error));
    subscribed = outcome.subscribed;
  } catch (err) {
    return failed(kafkaErrorOf(err));
  }
  return {
    errorCode: KafkaError.NONE,
    throttleTimeMs: 0,
    topics: request.topics.map((topic, i) => ({
      name: topic.name,
      partitions: topic.partitions.map(({ partitionIndex }) => ({
        partitionIndex,
        errorCode: !readable[i]
          ? KafkaError.TOPIC_AUTHORIZATION_FAILED
          : !exists(i, partitionIndex)
            ? KafkaError.UNKNOWN_TOPIC_OR_PARTITION
            : subscribed.has(topic.name)
              ? KafkaError.GROUP_SUBSCRIBED_TO_TOPIC
              : KafkaError.NONE,
      })),
    })),
  };
};
