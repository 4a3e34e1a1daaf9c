import type { TopicPartition } from '../../../core/index.ts';
import type { OffsetDeleteRequest, OffsetDeleteResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorFor, kafkaErrorOf } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

/**
 * Deletes a group's committed offsets of some partitions (KafkaApis.handleOffsetDeleteRequest): unknown
 * partitions get UNKNOWN_TOPIC_OR_PARTITION, topics the group's members subscribe to GROUP_SUBSCRIBED_TO_TOPIC,
 * and a group error (unknown, not empty, not coordinated here) answers the whole request.
 */
export const handleOffsetDelete: Handler<OffsetDeleteRequest, OffsetDeleteResponse> = async (ctx, request) => {
  const failed = (errorCode: number): OffsetDeleteResponse => ({ errorCode, throttleTimeMs: 0, topics: [] });
  if (request.groupId === '') return failed(KafkaError.INVALID_GROUP_ID);
  const refused = ctx.coordinatorError(request.groupId);
  if (refused !== undefined) return failed(refused);
  const partitionCounts = request.topics.map((t) => ctx.visibleTopic(t.name)?.partitions ?? 0);
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
        errorCode: !exists(i, partitionIndex)
          ? KafkaError.UNKNOWN_TOPIC_OR_PARTITION
          : subscribed.has(topic.name)
            ? KafkaError.GROUP_SUBSCRIBED_TO_TOPIC
            : KafkaError.NONE,
      })),
    })),
  };
};
