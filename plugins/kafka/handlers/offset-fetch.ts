import type { OffsetFetchRequest, OffsetFetchResponse, OffsetFetchResponseOffsetFetchResponseTopic } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';
import type { KafkaSession } from '../security/kafka-session.ts';

/**
 * Offset -1 when nothing is committed; null topics (v2+) means every committed partition of the group.
 * Needs DESCRIBE on the group; topics the principal may not DESCRIBE are left out of an "all topics"
 * answer and answered TOPIC_AUTHORIZATION_FAILED when named. v8+ asks for several groups at once, each
 * answered on its own.
 */
export const handleOffsetFetch: Handler<OffsetFetchRequest, OffsetFetchResponse> = (ctx, request, header, connection) => {
  const session = connection.session;
  if (header.apiVersion >= 8) {
    const groups = request.groups.map((g) => ({ groupId: g.groupId, ...fetchGroup(ctx, session, g.groupId, g.topics) }));
    return { throttleTimeMs: 0, topics: [], errorCode: KafkaError.NONE, groups };
  }
  const { errorCode, topics } = fetchGroup(ctx, session, request.groupId, request.topics);
  if (errorCode !== KafkaError.NONE && header.apiVersion < 2) {
    // v0-1 have no group error: every named partition carries it.
    const partitionError = (request.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode })) }));
    return { throttleTimeMs: 0, topics: partitionError, errorCode, groups: [] };
  }
  return { throttleTimeMs: 0, topics, errorCode, groups: [] };
};

function fetchGroup(
  ctx: KafkaContext,
  session: KafkaSession,
  groupId: string,
  named: ReadonlyArray<{ name: string; partitionIndexes: number[] }> | null,
): { errorCode: number; topics: OffsetFetchResponseOffsetFetchResponseTopic[] } {
  const refused = session.allows('describe', 'group', groupId) ? ctx.coordinatorError(groupId) : KafkaError.GROUP_AUTHORIZATION_FAILED;
  if (refused !== undefined) return { errorCode: refused, topics: [] };
  const requested = named ?? committedTopics(ctx.offsets.fetchAll(groupId)).filter((t) => session.allows('describe', 'topic', t.name));
  return {
    errorCode: KafkaError.NONE,
    topics: requested.map((topic) => ({
      name: topic.name,
      partitions: topic.partitionIndexes.map((partitionIndex) => {
        if (!session.allows('describe', 'topic', topic.name)) {
          return { partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: KafkaError.TOPIC_AUTHORIZATION_FAILED };
        }
        const committed = ctx.offsets.fetch(groupId, topic.name, partitionIndex);
        return {
          partitionIndex,
          committedOffset: committed?.offset ?? -1,
          committedLeaderEpoch: committed?.leaderEpoch ?? -1,
          metadata: committed?.metadata ?? '',
          errorCode: KafkaError.NONE,
        };
      }),
    })),
  };
}

function committedTopics(offsets: ReadonlyArray<{ topic: string; partition: number }>): Array<{ name: string; partitionIndexes: number[] }> {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of offsets) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
}
