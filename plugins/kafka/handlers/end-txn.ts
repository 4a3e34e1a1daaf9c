import type { EndTxnRequest, EndTxnResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

/** WRITE on the transactional id, then commit or abort (before v2 PRODUCER_FENCED is INVALID_PRODUCER_EPOCH). */
export const handleEndTxn: Handler<EndTxnRequest, EndTxnResponse> = async (ctx, request, header, connection) => {
  const answer = (errorCode: number): EndTxnResponse => ({ throttleTimeMs: 0, errorCode, producerId: -1, producerEpoch: -1 });
  if (!connection.session.allows('write', 'transactional-id', request.transactionalId)) return answer(KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  if (ctx.transactions === undefined) return answer(KafkaError.COORDINATOR_NOT_AVAILABLE);
  const errorCode = await ctx.transactions.end(request.transactionalId, Number(request.producerId), request.producerEpoch, request.committed);
  return answer(errorCode === KafkaError.PRODUCER_FENCED && header.apiVersion < 2 ? KafkaError.INVALID_PRODUCER_EPOCH : errorCode);
};
