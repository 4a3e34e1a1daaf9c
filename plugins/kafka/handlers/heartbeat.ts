import type { HeartbeatRequest, HeartbeatResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorFor } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

export const handleHeartbeat: Handler<HeartbeatRequest, HeartbeatResponse> = (ctx, request, _header, connection) => ({
  throttleTimeMs: 0,
  errorCode: !connection.session.allows('read', 'group', request.groupId)
    ? KafkaError.GROUP_AUTHORIZATION_FAILED
    : (ctx.coordinatorError(request.groupId) ?? kafkaErrorFor(ctx.coordinator.heartbeat(request.groupId, request.memberId, request.generationId))),
});
