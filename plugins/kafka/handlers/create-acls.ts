import { BrokerError, checkAcl, type AclBinding } from '../../../core/index.ts';
import type { CreateAclsRequest, CreateAclsResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { aclBindingOf, CLUSTER_NAME } from '../security/acl-codes.ts';

/** Adds bindings (one durable change for all valid ones); needs ALTER on the cluster. */
export const handleCreateAcls: Handler<CreateAclsRequest, CreateAclsResponse> = async (ctx, request, _header, connection) => {
  if (!connection.session.allows('alter', 'cluster', CLUSTER_NAME)) {
    return { throttleTimeMs: 0, results: request.creations.map(() => ({ errorCode: KafkaError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' })) };
  }
  const results = request.creations.map((creation) => {
    const binding = aclBindingOf({ ...creation, patternType: creation.resourcePatternType });
    if (typeof binding === 'string') return binding;
    try {
      return checkAcl(binding);
    } catch (err) {
      return (err as Error).message;
    }
  });
  const valid = results.filter((r): r is AclBinding => typeof r !== 'string');
  let stored: { errorCode: number; errorMessage: string | null } = { errorCode: KafkaError.NONE, errorMessage: null };
  try {
    if (valid.length > 0) await ctx.security.addAcls(valid);
    if (valid.length > 0) ctx.logger.info({ principal: connection.session.principal, acls: valid }, 'ACLs added');
  } catch (err) {
    if (!BrokerError.is(err)) ctx.logger.error({ err }, 'ACLs could not be stored');
    stored = { errorCode: kafkaErrorOf(err), errorMessage: (err as Error).message };
  }
  return {
    throttleTimeMs: 0,
    results: results.map((r) => (typeof r === 'string' ? { errorCode: KafkaError.INVALID_REQUEST, errorMessage: r } : stored)),
  };
};
