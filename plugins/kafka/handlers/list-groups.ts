import type { ListGroupsRequest, ListGroupsResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { CLUSTER_NAME } from '../security/acl-codes.ts';

/** With DESCRIBE on the cluster every group, else those the principal may DESCRIBE (Kafka's rule); v4+ filter by state, v5+ by type. */
export const handleListGroups: Handler<ListGroupsRequest, ListGroupsResponse> = (ctx, request, _header, connection) => {
  const session = connection.session;
  const everyGroup = session.allows('describe', 'cluster', CLUSTER_NAME);
  return {
  throttleTimeMs: 0,
  errorCode: KafkaError.NONE,
  groups: ctx.coordinator
    .list()
    .filter((g) => request.statesFilter.length === 0 || request.statesFilter.includes(g.state))
    // v5 (KIP-848): every group here is a classic one; Kafka matches the type names case-insensitively.
    .filter(() => request.typesFilter.length === 0 || request.typesFilter.some((t) => t.toLowerCase() === 'classic'))
    .filter((g) => everyGroup || session.allows('describe', 'group', g.groupId))
    .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: 'classic' })),
  };
};
