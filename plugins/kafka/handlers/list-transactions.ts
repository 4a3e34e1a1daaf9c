import type { ListTransactionsRequest, ListTransactionsResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { TXN_STATES } from '../transactions/transaction-metadata.ts';

/**
 * Kafka's listTransactionStates: the transactions the principal may describe, filtered by state (unknown
 * state names are echoed back), producer id, and (v1) running longer than the duration filter.
 */
export const handleListTransactions: Handler<ListTransactionsRequest, ListTransactionsResponse> = (ctx, request, _header, connection) => {
  const unknownStateFilters = request.stateFilters.filter((s) => !(TXN_STATES as readonly string[]).includes(s));
  const answer = (errorCode: number, transactionStates: ListTransactionsResponse['transactionStates'] = []): ListTransactionsResponse => ({ throttleTimeMs: 0, errorCode, unknownStateFilters, transactionStates });
  if (ctx.transactions === undefined) return answer(KafkaError.COORDINATOR_NOT_AVAILABLE);
  const states = new Set(request.stateFilters);
  const producerIds = new Set(request.producerIdFilters.map(Number));
  const now = ctx.clock.now();
  const listed: ListTransactionsResponse['transactionStates'] = [];
  for (const txn of ctx.transactions.all()) {
    if (txn.state === 'Dead') continue;
    if (states.size > 0 && !states.has(txn.state)) continue;
    if (producerIds.size > 0 && !producerIds.has(txn.producerId)) continue;
    if (request.durationFilter >= 0 && now - txn.startTimestamp <= request.durationFilter) continue;
    if (!connection.session.allows('describe', 'transactional-id', txn.transactionalId)) continue;
    listed.push({ transactionalId: txn.transactionalId, producerId: txn.producerId, transactionState: txn.state });
  }
  return answer(KafkaError.NONE, listed);
};
