import type { LeaveGroupRequest, LeaveGroupResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorFor } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

/** v0-v2 carry one member id, v3+ a batch of members. */
export const handleLeaveGroup: Handler<LeaveGroupRequest, LeaveGroupResponse> = (ctx, request, header, connection) => {
  const members = header.apiVersion >= 3 ? request.members : [{ memberId: request.memberId, groupInstanceId: null, reason: null }];
  const refused = connection.session.allows('read', 'group', request.groupId) ? ctx.coordinatorError(request.groupId) : KafkaError.GROUP_AUTHORIZATION_FAILED;
  if (refused !== undefined) return { throttleTimeMs: 0, errorCode: refused, members: [] };
  const errors = ctx.coordinator.leave(request.groupId, members.map((m) => m.memberId)).map(kafkaErrorFor);
  return {
    throttleTimeMs: 0,
    errorCode: header.apiVersion >= 3 ? KafkaError.NONE : (errors[0] ?? KafkaError.NONE),
    members: members.map((m, i) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: errors[i]! })),
  };
};
