import type { InitProducerIdRequest, InitProducerIdResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { CLUSTER_NAME } from '../security/acl-codes.ts';

/**
 * Idempotent producers get a fresh id at epoch 0 (with IDEMPOTENT_WRITE on the cluster or WRITE on some
 * topic); transactional ids are refused until transactions exist.
 */
export const handleInitProducerId: Handler<InitProducerIdRequest, InitProducerIdResponse> = async (ctx, request, _header, connection) => {
  if (request.transactionalId !== null) {
    ctx.logger.warn({ transactionalId: request.transactionalId }, 'refused a transactional producer: transactions are not supported');
    return { throttleTimeMs: 0, errorCode: KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
  }
  const session = connection.session;
  if (!session.allows('idempotent-write', 'cluster', CLUSTER_NAME) && !session.allowsAnyOf('write', 'topic')) {
    return { throttleTimeMs: 0, errorCode: KafkaError.CLUSTER_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
  }
  return { throttleTimeMs: 0, errorCode: KafkaError.NONE, producerId: await ctx.producerIds.allocate(), producerEpoch: 0 };
};
