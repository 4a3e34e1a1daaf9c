import type { ListGroupsRequest, ListGroupsResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

export const handleListGroups: Handler<ListGroupsRequest, ListGroupsResponse> = (ctx, request) => ({
  throttleTimeMs: 0,
  errorCode: KafkaError.NONE,
  groups: ctx.coordinator
    .list()
    .filter((g) => request.statesFilter.length === 0 || request.statesFilter.includes(g.state))
    .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: 'classic' })),
});
