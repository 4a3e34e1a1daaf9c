import type { InitProducerIdRequest, InitProducerIdResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { CLUSTER_NAME } from '../security/acl-codes.ts';

const NO_PRODUCER_ID = -1;
const NO_PRODUCER_EPOCH = -1;

/**
 * Idempotent producers get a fresh id at epoch 0 (with IDEMPOTENT_WRITE on the cluster or WRITE on some
 * topic); a transactional id (WRITE on it) gets its producer id with the next epoch from the transaction
 * coordinator, which fences the previous holder. Before v4 PRODUCER_FENCED is INVALID_PRODUCER_EPOCH, as Kafka answers old clients.
 */
export const handleInitProducerId: Handler<InitProducerIdRequest, InitProducerIdResponse> = async (ctx, request, header, connection) => {
  const session = connection.session;
  const answer = (errorCode: number, producerId = NO_PRODUCER_ID, producerEpoch = NO_PRODUCER_EPOCH): InitProducerIdResponse => ({ throttleTimeMs: 0, errorCode, producerId, producerEpoch });
  if (request.transactionalId !== null) {
    if (!session.allows('write', 'transactional-id', request.transactionalId)) return answer(KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  } else if (!session.allows('idempotent-write', 'cluster', CLUSTER_NAME) && !session.allowsAnyOf('write', 'topic')) {
    return answer(KafkaError.CLUSTER_AUTHORIZATION_FAILED);
  }
  const givenId = request.producerId !== NO_PRODUCER_ID;
  const givenEpoch = request.producerEpoch !== NO_PRODUCER_EPOCH;
  if (givenId !== givenEpoch) return answer(KafkaError.INVALID_REQUEST);
  if (request.transactionalId === null) return answer(KafkaError.NONE, await ctx.producerIds.allocate(), 0);
  if (ctx.transactions === undefined) return answer(KafkaError.COORDINATOR_NOT_AVAILABLE);
  const expected = givenId ? { producerId: Number(request.producerId), epoch: request.producerEpoch } : undefined;
  const result = await ctx.transactions.initProducerId(request.transactionalId, request.transactionTimeoutMs, expected);
  const errorCode = result.errorCode === KafkaError.PRODUCER_FENCED && header.apiVersion < 4 ? KafkaError.INVALID_PRODUCER_EPOCH : result.errorCode;
  return answer(errorCode, result.producerId, result.producerEpoch);
};
