import type { DescribeGroupsRequest, DescribeGroupsResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { authorizedOperations } from '../security/acl-codes.ts';

const UNKNOWN_OPERATIONS = -2147483648;

export const handleDescribeGroups: Handler<DescribeGroupsRequest, DescribeGroupsResponse> = (ctx, request, header, connection) => ({
  throttleTimeMs: 0,
  groups: request.groups.map((groupId) => {
    const session = connection.session;
    const refused = session.allows('describe', 'group', groupId) ? ctx.coordinatorError(groupId) : KafkaError.GROUP_AUTHORIZATION_FAILED;
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
      authorizedOperations:
        header.apiVersion >= 3 && request.includeAuthorizedOperations ? authorizedOperations('group', (op) => session.allows(op, 'group', groupId)) : UNKNOWN_OPERATIONS,
    };
  }),
});
