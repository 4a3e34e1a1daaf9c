import type { DescribeTransactionsRequest, DescribeTransactionsResponse, DescribeTransactionsResponseTransactionState } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { parsePartitionKey } from '../transactions/transaction-metadata.ts';

/**
 * Kafka's handleDescribeTransactions: DESCRIBE on each transactional id, then its state, producer,
 * timeout, start time and the partitions in it whose topic the principal may describe.
 */
export const handleDescribeTransactions: Handler<DescribeTransactionsRequest, DescribeTransactionsResponse> = (ctx, request, _header, connection) => {
  const session = connection.session;
  const describe = (transactionalId: string): DescribeTransactionsResponseTransactionState => {
    const state = (errorCode: number): DescribeTransactionsResponseTransactionState => ({
      errorCode,
      transactionalId,
      transactionState: '',
      transactionTimeoutMs: 0,
      transactionStartTimeMs: -1,
      producerId: -1,
      producerEpoch: -1,
      topics: [],
    });
    if (!session.allows('describe', 'transactional-id', transactionalId)) return state(KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (ctx.transactions === undefined) return state(KafkaError.COORDINATOR_NOT_AVAILABLE);
    if (transactionalId === '') return state(KafkaError.INVALID_REQUEST);
    const elsewhere = ctx.transactions.coordinatorError(transactionalId);
    if (elsewhere !== undefined) return state(elsewhere);
    const txn = ctx.transactions.get(transactionalId);
    if (txn === undefined || txn.state === 'Dead') return state(KafkaError.TRANSACTIONAL_ID_NOT_FOUND);
    const topics = new Map<string, number[]>();
    for (const key of txn.partitions) {
      const { topic, partition } = parsePartitionKey(key);
      if (!session.allows('describe', 'topic', topic)) continue;
      topics.set(topic, [...(topics.get(topic) ?? []), partition]);
    }
    return {
      ...state(KafkaError.NONE),
      transactionState: txn.state,
      transactionTimeoutMs: txn.timeoutMs,
      transactionStartTimeMs: txn.startTimestamp,
      producerId: txn.producerId,
      producerEpoch: txn.producerEpoch,
      topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
    };
  };
  return { throttleTimeMs: 0, transactionStates: request.transactionalIds.map(describe) };
};
