import type { OffsetFetchRequest, OffsetFetchResponse, OffsetFetchResponseOffsetFetchResponseTopic } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';
import type { KafkaSession } from '../security/kafka-session.ts';
import { partitionKey } from '../transactions/transaction-metadata.ts';

/**
 * Offset -1 when nothing is committed; null topics (v2+) means every committed partition of the group.
 * Needs DESCRIBE on the group; topics the principal may not DESCRIBE are left out of an "all topics"
 * answer and answered TOPIC_AUTHORIZATION_FAILED when named. v8+ asks for several groups at once, each
 * answered on its own. With require_stable (v7+, KIP-447) a partition whose offset a transaction has
 * committed but not yet completed is UNSTABLE_OFFSET_COMMIT, as Kafka's getOffsets answers, so a
 * read_committed consumer retries instead of resuming before the transaction's offset.
 */
export const handleOffsetFetch: Handler<OffsetFetchRequest, OffsetFetchResponse> = (ctx, request, header, connection) => {
  const session = connection.session;
  if (header.apiVersion >= 8) {
    const groups = request.groups.map((g) => ({ groupId: g.groupId, ...fetchGroup(ctx, session, g.groupId, g.topics, request.requireStable) }));
    return { throttleTimeMs: 0, topics: [], errorCode: KafkaError.NONE, groups };
  }
  const { errorCode, topics } = fetchGroup(ctx, session, request.groupId, request.topics, request.requireStable);
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
  requireStable: boolean,
): { errorCode: number; topics: OffsetFetchResponseOffsetFetchResponseTopic[] } {
  const refused = session.allows('describe', 'group', groupId) ? ctx.coordinatorError(groupId) : KafkaError.GROUP_AUTHORIZATION_FAILED;
  if (refused !== undefined) return { errorCode: refused, topics: [] };
  const unstable = !requireStable ? undefined : ctx.cluster.clustered ? ctx.offsets.pendingKeys(groupId) : ctx.transactions?.pendingOffsetKeys(groupId);
  const requested = named ?? committedTopics(ctx.offsets.fetchAll(groupId)).filter((t) => session.allows('describe', 'topic', t.name));
  return {
    errorCode: KafkaError.NONE,
    topics: requested.map((topic) => ({
      name: topic.name,
      partitions: topic.partitionIndexes.map((partitionIndex) => {
        if (!session.allows('describe', 'topic', topic.name)) {
          return { partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: KafkaError.TOPIC_AUTHORIZATION_FAILED };
        }
        if (unstable?.has(partitionKey(topic.name, partitionIndex))) {
          return { partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: KafkaError.UNSTABLE_OFFSET_COMMIT };
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
