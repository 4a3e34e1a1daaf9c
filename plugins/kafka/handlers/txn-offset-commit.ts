import type { TxnOffsetCommitRequest, TxnOffsetCommitResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';
import type { PendingOffset } from '../transactions/transaction-metadata.ts';

/**
 * Kafka's handleTxnOffsetCommitRequest: WRITE on the transactional id, READ on the group, READ on each
 * topic (TOPIC_AUTHORIZATION_FAILED for the topic's partitions), an unknown topic's partitions
 * UNKNOWN_TOPIC_OR_PARTITION; from v3 the member and generation, when given, must be the group's; the rest are
 * kept with the transaction and committed with it.
 */
export const handleTxnOffsetCommit: Handler<TxnOffsetCommitRequest, TxnOffsetCommitResponse> = async (ctx, request, _header, connection) => {
  const session = connection.session;
  const respond = (errorOf: (topic: string) => number): TxnOffsetCommitResponse => ({
    throttleTimeMs: 0,
    topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: errorOf(t.name) })) })),
  });
  if (!session.allows('write', 'transactional-id', request.transactionalId)) return respond(() => KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  if (!session.allows('read', 'group', request.groupId)) return respond(() => KafkaError.GROUP_AUTHORIZATION_FAILED);
  const coordinatorError = ctx.coordinatorError(request.groupId);
  if (coordinatorError !== undefined || ctx.transactions === undefined) return respond(() => coordinatorError ?? KafkaError.COORDINATOR_NOT_AVAILABLE);
  const groupError = memberError(ctx, request);
  if (groupError !== undefined) return respond(() => groupError);
  const topicError = (name: string): number | undefined => {
    if (!session.allows('read', 'topic', name)) return KafkaError.TOPIC_AUTHORIZATION_FAILED;
    return ctx.visibleTopic(name) === undefined ? KafkaError.UNKNOWN_TOPIC_OR_PARTITION : undefined;
  };
  const offsets = request.topics
    .filter((t) => topicError(t.name) === undefined)
    .flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset), leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata })));
  const errorCode = offsets.length === 0 ? KafkaError.NONE : await commit(ctx, request, offsets);
  return respond((name) => topicError(name) ?? errorCode);
};

/**
 * On a single node the offsets wait in the transaction's state; in a cluster the group's coordinator (this
 * broker, not in general the transaction's) keeps them under the producer in `__consumer_offsets` until
 * the transaction's marker for that partition arrives, as Kafka's group coordinator does.
 */
async function commit(ctx: KafkaContext, request: TxnOffsetCommitRequest, offsets: PendingOffset[]): Promise<number> {
  if (!ctx.cluster.clustered) return ctx.transactions!.commitOffsets(request.transactionalId, Number(request.producerId), request.producerEpoch, request.groupId, offsets);
  try {
    await ctx.offsets.commitTransactional(request.groupId, Number(request.producerId), request.producerEpoch, offsets);
    return KafkaError.NONE;
  } catch (err) {
    return kafkaErrorOf(err);
  }
}

/**
 * v3 (KIP-447), Kafka's doTxnCommitOffsets: a member id the group does not have is UNKNOWN_MEMBER_ID, a
 * generation other than the group's ILLEGAL_GENERATION, so a zombie processor's offsets are refused.
 */
function memberError(ctx: KafkaContext, request: TxnOffsetCommitRequest): number | undefined {
  if (request.memberId === '' && request.generationId < 0) return undefined;
  const group = ctx.coordinator.describe(request.groupId);
  if (request.memberId !== '' && !group.members.some((m) => m.memberId === request.memberId)) return KafkaError.UNKNOWN_MEMBER_ID;
  if (request.generationId >= 0 && request.generationId !== group.generationId) return KafkaError.ILLEGAL_GENERATION;
  return undefined;
}
