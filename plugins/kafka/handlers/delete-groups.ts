import type { DeleteGroupsRequest, DeleteGroupsResponse } from '../codec/index.ts';
import { kafkaErrorFor } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

export const handleDeleteGroups: Handler<DeleteGroupsRequest, DeleteGroupsResponse> = async (ctx, request) => ({
  throttleTimeMs: 0,
  results: await Promise.all(
    request.groupsNames.map(async (groupId) => ({ groupId, errorCode: ctx.coordinatorError(groupId) ?? kafkaErrorFor(await ctx.coordinator.delete(groupId)) })),
  ),
});
