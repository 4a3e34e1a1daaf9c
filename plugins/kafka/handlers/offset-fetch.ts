import type { OffsetFetchRequest, OffsetFetchResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

/**
 * Offset -1 when nothing is committed; null topics (v2+) means every committed partition of the group.
 * Needs DESCRIBE on the group; topics the principal may not DESCRIBE are left out of an "all topics"
 * answer and answered TOPIC_AUTHORIZATION_FAILED when named.
 */
export const handleOffsetFetch: Handler<OffsetFetchRequest, OffsetFetchResponse> = (ctx, request, header, connection) => {
  const session = connection.session;
  const refused = session.allows('describe', 'group', request.groupId) ? ctx.coordinatorError(request.groupId) : KafkaError.GROUP_AUTHORIZATION_FAILED;
  if (refused !== undefined) {
    const partitionError = header.apiVersion < 2;
    return {
      throttleTimeMs: 0,
      topics: partitionError
        ? (request.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: refused })) }))
        : [],
      errorCode: refused,
      groups: [],
    };
  }
  const requested = request.topics ?? committedTopics(ctx.offsets.fetchAll(request.groupId)).filter((t) => session.allows('describe', 'topic', t.name));
  return {
    throttleTimeMs: 0,
    topics: requested.map((topic) => ({
      name: topic.name,
      partitions: topic.partitionIndexes.map((partitionIndex) => {
        if (!session.allows('describe', 'topic', topic.name)) {
          return { partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: KafkaError.TOPIC_AUTHORIZATION_FAILED };
        }
        const committed = ctx.offsets.fetch(request.groupId, topic.name, partitionIndex);
        return {
          partitionIndex,
          committedOffset: committed?.offset ?? -1,
          committedLeaderEpoch: committed?.leaderEpoch ?? -1,
          metadata: committed?.metadata ?? '',
          errorCode: KafkaError.NONE,
        };
      }),
    })),
    errorCode: KafkaError.NONE,
    groups: [],
  };
};

function committedTopics(offsets: ReadonlyArray<{ topic: string; partition: number }>): Array<{ name: string; partitionIndexes: number[] }> {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of offsets) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
}
