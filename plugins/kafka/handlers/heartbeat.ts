import type { HeartbeatRequest, HeartbeatResponse } from '../codec/index.ts';
import { kafkaErrorFor } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

export const handleHeartbeat: Handler<HeartbeatRequest, HeartbeatResponse> = (ctx, request) => ({
  throttleTimeMs: 0,
  errorCode: ctx.coordinatorError(request.groupId) ?? kafkaErrorFor(ctx.coordinator.heartbeat(request.groupId, request.memberId, request.generationId)),
});
