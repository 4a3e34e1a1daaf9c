import type { AddOffsetsToTxnRequest, AddOffsetsToTxnResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

/** WRITE on the transactional id, READ on the group, then the group joins the transaction (before v2 PRODUCER_FENCED is INVALID_PRODUCER_EPOCH). */
export const handleAddOffsetsToTxn: Handler<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse> = async (ctx, request, header, connection) => {
  const answer = (errorCode: number): AddOffsetsToTxnResponse => ({ throttleTimeMs: 0, errorCode });
  const session = connection.session;
  if (!session.allows('write', 'transactional-id', request.transactionalId)) return answer(KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  if (!session.allows('read', 'group', request.groupId)) return answer(KafkaError.GROUP_AUTHORIZATION_FAILED);
  if (ctx.transactions === undefined) return answer(KafkaError.COORDINATOR_NOT_AVAILABLE);
  const errorCode = await ctx.transactions.add(request.transactionalId, Number(request.producerId), request.producerEpoch, [], [request.groupId]);
  return answer(errorCode === KafkaError.PRODUCER_FENCED && header.apiVersion < 2 ? KafkaError.INVALID_PRODUCER_EPOCH : errorCode);
};
