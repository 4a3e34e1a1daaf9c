import type { OffsetFetchRequest, OffsetFetchResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

/** Offset -1 when nothing is committed; null topics (v2+) means every committed partition of the group. */
export const handleOffsetFetch: Handler<OffsetFetchRequest, OffsetFetchResponse> = (ctx, request, header) => {
  const refused = ctx.coordinatorError(request.groupId);
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
  const requested = request.topics ?? committedTopics(ctx.offsets.fetchAll(request.groupId));
  return {
    throttleTimeMs: 0,
    topics: requested.map((topic) => ({
      name: topic.name,
      partitions: topic.partitionIndexes.map((partitionIndex) => {
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
