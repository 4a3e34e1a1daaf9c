import type { FindCoordinatorRequest, FindCoordinatorResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

const GROUP = 0;

/** A single node coordinates every group; transaction coordinators do not exist yet. */
export const handleFindCoordinator: Handler<FindCoordinatorRequest, FindCoordinatorResponse> = (ctx, request) => {
  const { nodeId, host, port } = ctx.node;
  const errorCode = request.keyType === GROUP ? KafkaError.NONE : KafkaError.COORDINATOR_NOT_AVAILABLE;
  const errorMessage = errorCode === KafkaError.NONE ? null : 'transactions are not supported';
  return {
    throttleTimeMs: 0,
    errorCode,
    errorMessage,
    nodeId: errorCode === KafkaError.NONE ? nodeId : -1,
    host: errorCode === KafkaError.NONE ? host : '',
    port: errorCode === KafkaError.NONE ? port : -1,
    coordinators: request.coordinatorKeys.map((key) => ({ key, nodeId, host, port, errorCode, errorMessage })),
  };
};
