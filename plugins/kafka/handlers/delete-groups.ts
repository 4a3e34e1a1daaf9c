import type { DeleteGroupsRequest, DeleteGroupsResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorFor } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

export const handleDeleteGroups: Handler<DeleteGroupsRequest, DeleteGroupsResponse> = async (ctx, request, _header, connection) => ({
  throttleTimeMs: 0,
  results: await Promise.all(
    request.groupsNames.map(async (groupId) => ({
      groupId,
      errorCode: !connection.session.allows('delete', 'group', groupId)
        ? KafkaError.GROUP_AUTHORIZATION_FAILED
        : (ctx.coordinatorError(groupId) ?? kafkaErrorFor(await ctx.coordinator.delete(groupId))),
    })),
  ),
});
