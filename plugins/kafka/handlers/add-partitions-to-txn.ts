import type { AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

const OPERATION_NOT_ATTEMPTED = 55;

/**
 * Kafka's handleAddPartitionsToTxnRequest for clients (v0-3): WRITE on the transactional id, then WRITE on
 * each topic and the partition must exist, else the failing partitions get their error and the others
 * OPERATION_NOT_ATTEMPTED; otherwise the coordinator's answer for all of them (before v2 PRODUCER_FENCED
 * is INVALID_PRODUCER_EPOCH).
 */
export const handleAddPartitionsToTxn: Handler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse> = async (ctx, request, header, connection) => {
  const session = connection.session;
  const topics = request.v3AndBelowTopics;
  const respond = (errorOf: (topic: string, partition: number) => number): AddPartitionsToTxnResponse => ({
    throttleTimeMs: 0,
    errorCode: KafkaError.NONE,
    resultsByTransaction: [],
    resultsByTopicV3AndBelow: topics.map(
      (t): AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult => ({ name: t.name, resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: errorOf(t.name, p) })) }),
    ),
  });
  if (!session.allows('write', 'transactional-id', request.v3AndBelowTransactionalId)) return respond(() => KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  const failures = new Map<string, number>();
  for (const t of topics) {
    const topic = session.allows('write', 'topic', t.name) ? ctx.visibleTopic(t.name) : undefined;
    for (const p of t.partitions) {
      if (!session.allows('write', 'topic', t.name)) failures.set(`${t.name}:${p}`, KafkaError.TOPIC_AUTHORIZATION_FAILED);
      else if (topic === undefined || p < 0 || p >= topic.partitions) failures.set(`${t.name}:${p}`, KafkaError.UNKNOWN_TOPIC_OR_PARTITION);
    }
  }
  if (failures.size > 0) return respond((t, p) => failures.get(`${t}:${p}`) ?? OPERATION_NOT_ATTEMPTED);
  if (ctx.transactions === undefined) return respond(() => KafkaError.COORDINATOR_NOT_AVAILABLE);
  const partitions = topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
  const errorCode = await ctx.transactions.add(request.v3AndBelowTransactionalId, Number(request.v3AndBelowProducerId), request.v3AndBelowProducerEpoch, partitions, []);
  const answered = errorCode === KafkaError.PRODUCER_FENCED && header.apiVersion < 2 ? KafkaError.INVALID_PRODUCER_EPOCH : errorCode;
  return respond(() => answered);
};
