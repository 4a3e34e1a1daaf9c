import type { SyncGroupRequest, SyncGroupResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorFor } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

export const handleSyncGroup: Handler<SyncGroupRequest, SyncGroupResponse> = async (ctx, request, _header, connection) => {
  const refused = connection.session.allows('read', 'group', request.groupId) ? ctx.coordinatorError(request.groupId) : KafkaError.GROUP_AUTHORIZATION_FAILED;
  if (refused !== undefined) return { throttleTimeMs: 0, errorCode: refused, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
  const result = await ctx.coordinator.sync({
    groupId: request.groupId,
    memberId: request.memberId,
    generationId: request.generationId,
    groupInstanceId: request.groupInstanceId,
    assignments: new Map(request.assignments.map((a) => [a.memberId, a.assignment])),
    // v5+: null when the client does not say.
    protocolType: request.protocolType,
    protocolName: request.protocolName,
  });
  return { throttleTimeMs: 0, errorCode: kafkaErrorFor(result.error), protocolType: result.protocolType, protocolName: result.protocolName, assignment: result.assignment };
};
