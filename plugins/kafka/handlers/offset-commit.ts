import type { OffsetCommit } from '../../../core/index.ts';
import type { OffsetCommitRequest, OffsetCommitResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorFor, kafkaErrorOf, type KafkaErrorCode } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

/**
 * Checks READ on the group (else every partition gets GROUP_AUTHORIZATION_FAILED) and on each topic
 * (TOPIC_AUTHORIZATION_FAILED), then member and generation (generation -1 from an empty group is a simple
 * commit), then stores durably.
 */
export const handleOffsetCommit: Handler<OffsetCommitRequest, OffsetCommitResponse> = async (ctx, request, header, connection) => {
  const session = connection.session;
  const generation = header.apiVersion >= 1 ? request.generationIdOrMemberEpoch : -1;
  const refused = session.allows('read', 'group', request.groupId) ? ctx.coordinatorError(request.groupId) : KafkaError.GROUP_AUTHORIZATION_FAILED;
  const groupError = refused === undefined ? ctx.coordinator.validateCommit(request.groupId, request.memberId, generation) : undefined;
  const commits: OffsetCommit[] = [];
  const errorFor = new Map<string, KafkaErrorCode>();
  for (const topic of request.topics) {
    const descriptor = ctx.visibleTopic(topic.name);
    const topicAllowed = refused === KafkaError.GROUP_AUTHORIZATION_FAILED || session.allows('read', 'topic', topic.name);
    for (const p of topic.partitions) {
      const key = `${topic.name}:${p.partitionIndex}`;
      if (!topicAllowed) errorFor.set(key, KafkaError.TOPIC_AUTHORIZATION_FAILED);
      else if (refused !== undefined) errorFor.set(key, refused);
      else if (groupError) errorFor.set(key, kafkaErrorFor(groupError));
      else if (!descriptor || p.partitionIndex < 0 || p.partitionIndex >= descriptor.partitions) errorFor.set(key, KafkaError.UNKNOWN_TOPIC_OR_PARTITION);
      else commits.push({ topic: topic.name, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata });
    }
  }
  if (commits.length > 0) {
    try {
      await ctx.offsets.commit(request.groupId, commits);
    } catch (err) {
      ctx.logger.error({ err, group: request.groupId }, 'offset commit failed');
      for (const c of commits) errorFor.set(`${c.topic}:${c.partition}`, kafkaErrorOf(err));
    }
  }
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: errorFor.get(`${t.name}:${p.partitionIndex}`) ?? KafkaError.NONE })),
    })),
  };
};
