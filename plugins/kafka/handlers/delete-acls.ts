import { BrokerError, type AclBinding } from '../../../core/index.ts';
import type { DeleteAclsRequest, DeleteAclsResponse, DeleteAclsResponseDeleteAclsFilterResult } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { aclFilterOf, CLUSTER_NAME, kafkaCodes } from '../security/acl-codes.ts';

/**
 * Removes the bindings each filter selects, answering them per filter; needs ALTER on the cluster.
 * Bindings Kafka cannot express (another protocol's) are neither shown nor removed.
 */
export const handleDeleteAcls: Handler<DeleteAclsRequest, DeleteAclsResponse> = async (ctx, request, _header, connection) => {
  const failed = (errorCode: number, errorMessage: string | null): DeleteAclsResponseDeleteAclsFilterResult => ({ errorCode, errorMessage, matchingAcls: [] });
  if (!connection.session.allows('alter', 'cluster', CLUSTER_NAME)) {
    return { throttleTimeMs: 0, filterResults: request.filters.map(() => failed(KafkaError.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.')) };
  }
  const matched = request.filters.map((kafkaFilter) => {
    const filter = aclFilterOf(kafkaFilter);
    return typeof filter === 'string' ? filter : ctx.security.authorizer.acls(filter).filter((acl) => kafkaCodes(acl) !== undefined);
  });
  const removed = [...new Set(matched.flatMap((m) => (typeof m === 'string' ? [] : m)))];
  try {
    if (removed.length > 0) await ctx.security.store.changeAcls([], removed);
    if (removed.length > 0) ctx.logger.info({ principal: connection.session.principal, acls: removed }, 'ACLs removed');
  } catch (err) {
    if (!BrokerError.is(err)) ctx.logger.error({ err }, 'ACL removal could not be stored');
    return { throttleTimeMs: 0, filterResults: matched.map((m) => (typeof m === 'string' ? failed(KafkaError.INVALID_REQUEST, m) : failed(kafkaErrorOf(err), (err as Error).message))) };
  }
  return {
    throttleTimeMs: 0,
    filterResults: matched.map((m) =>
      typeof m === 'string' ? failed(KafkaError.INVALID_REQUEST, m) : { errorCode: KafkaError.NONE, errorMessage: null, matchingAcls: m.map(matchingAcl) },
    ),
  };
};

function matchingAcl(acl: AclBinding) {
  const codes = kafkaCodes(acl)!;
  return { errorCode: KafkaError.NONE, errorMessage: null, ...codes };
}
