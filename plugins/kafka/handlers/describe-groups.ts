import type { DescribeGroupsRequest, DescribeGroupsResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

const UNKNOWN_OPERATIONS = -2147483648;

export const handleDescribeGroups: Handler<DescribeGroupsRequest, DescribeGroupsResponse> = (ctx, request) => ({
  throttleTimeMs: 0,
  groups: request.groups.map((groupId) => {
    const refused = ctx.coordinatorError(groupId);
    if (refused !== undefined) {
      return { errorCode: refused, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: UNKNOWN_OPERATIONS };
    }
    const group = ctx.coordinator.describe(groupId);
    return {
      errorCode: KafkaError.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType,
      protocolData: group.protocolName,
      members: group.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: m.metadata,
        memberAssignment: m.assignment,
      })),
      authorizedOperations: UNKNOWN_OPERATIONS,
    };
  }),
});
