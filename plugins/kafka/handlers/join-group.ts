import type { JoinGroupRequest, JoinGroupResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorFor } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

/** Classic JoinGroup on the core coordinator; v4+ asks new members to rejoin with their id. */
export const handleJoinGroup: Handler<JoinGroupRequest, JoinGroupResponse> = async (ctx, request, header, connection) => {
  const refused = connection.session.allows('read', 'group', request.groupId) ? ctx.coordinatorError(request.groupId) : KafkaError.GROUP_AUTHORIZATION_FAILED;
  if (refused !== undefined) {
    return { throttleTimeMs: 0, errorCode: refused, generationId: -1, protocolType: null, protocolName: header.apiVersion >= 7 ? null : '', leader: '', skipAssignment: false, memberId: request.memberId, members: [] };
  }
  const result = await ctx.coordinator.join({
    groupId: request.groupId,
    memberId: request.memberId,
    groupInstanceId: request.groupInstanceId,
    clientId: header.clientId ?? '',
    clientHost: connection.clientHost,
    sessionTimeoutMs: request.sessionTimeoutMs,
    rebalanceTimeoutMs: header.apiVersion >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
    protocolType: request.protocolType,
    protocols: request.protocols,
    requireKnownMemberId: header.apiVersion >= 4,
    assignmentMode: ctx.settings.groupAssignment,
  });
  return {
    throttleTimeMs: 0,
    errorCode: kafkaErrorFor(result.error),
    generationId: result.generationId,
    protocolType: result.protocolType,
    protocolName: result.protocolName ?? (header.apiVersion >= 7 ? null : ''),
    leader: result.leaderId,
    skipAssignment: false,
    memberId: result.memberId,
    members: result.members,
  };
};
