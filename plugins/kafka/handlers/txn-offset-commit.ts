import { OFFSETS_TOPIC } from '../../../core/index.ts';
import type { TxnOffsetCommitRequest, TxnOffsetCommitResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf, type KafkaErrorCode } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';
import { afterVerification, clientVerificationError, verifyPartition } from '../transactions/partition-verification.ts';
import type { PendingOffset } from '../transactions/transaction-metadata.ts';

/**
 * Kafka's handleTxnOffsetCommitRequest: WRITE on the transactional id, READ on the group, READ on each
 * topic (TOPIC_AUTHORIZATION_FAILED for the topic's partitions), an unknown topic's partitions
 * UNKNOWN_TOPIC_OR_PARTITION; from v3 the member and generation, when given, must be the group's; the rest are
 * kept with the transaction and committed with it.
 */
export const handleTxnOffsetCommit: Handler<TxnOffsetCommitRequest, TxnOffsetCommitResponse> = async (ctx, request, header, connection) => {
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
  const errorCode = offsets.length === 0 ? KafkaError.NONE : await commit(ctx, request, offsets, header.apiVersion);
  return respond((name) => topicError(name) ?? errorCode);
};

/**
 * On a single node the offsets wait in the transaction's state; in a cluster the group's coordinator (this
 * broker, not in general the transaction's) keeps them under the producer in `__consumer_offsets` until
 * the transaction's marker for that partition arrives, as Kafka's group coordinator does.
 */
async function commit(ctx: KafkaContext, request: TxnOffsetCommitRequest, offsets: PendingOffset[], version: number): Promise<number> {
  const producerId = Number(request.producerId);
  if (!ctx.cluster.clustered) {
    const errorCode = await ctx.transactions!.commitOffsets(request.transactionalId, producerId, request.producerEpoch, request.groupId, offsets);
    return clientVerificationError(errorCode, version >= 4);
  }
  const write = (): Promise<number> => ctx.offsets.commitTransactional(request.groupId, producerId, request.producerEpoch, offsets).then(() => KafkaError.NONE, kafkaErrorOf);
  // Kafka's handleTxnCommitOffsets verifies the group's offsets partition with the transaction coordinator first (KIP-890).
  const partition = ctx.offsets.partitionFor(request.groupId);
  const log = ctx.topics.log(OFFSETS_TOPIC, partition);
  const verification = log && verifyPartition(ctx.transactions!, log, ctx.clock.now(), request.transactionalId, producerId, request.producerEpoch, OFFSETS_TOPIC, partition);
  if (!verification) return write();
  return afterVerification<number | Promise<number>>(verification, write, (errorCode) => offsetCommitError(clientVerificationError(errorCode, version >= 4)));
}

/** Kafka's maybeConvertOffsetCommitError for a verification that failed. */
function offsetCommitError(errorCode: KafkaErrorCode): KafkaErrorCode {
  switch (errorCode) {
    case KafkaError.NETWORK_EXCEPTION:
      return KafkaError.COORDINATOR_LOAD_IN_PROGRESS;
    case KafkaError.UNKNOWN_TOPIC_OR_PARTITION:
    case KafkaError.NOT_ENOUGH_REPLICAS:
    case KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return KafkaError.COORDINATOR_NOT_AVAILABLE;
    case KafkaError.NOT_LEADER_OR_FOLLOWER:
    case KafkaError.KAFKA_STORAGE_ERROR:
      return KafkaError.NOT_COORDINATOR;
    default:
      return errorCode;
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
