import type { DescribeAclsRequest, DescribeAclsResponse, DescribeAclsResponseDescribeAclsResource } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { aclFilterOf, CLUSTER_NAME, kafkaCodes } from '../security/acl-codes.ts';

/** The bindings a filter selects, grouped by resource pattern; needs DESCRIBE on the cluster. */
export const handleDescribeAcls: Handler<DescribeAclsRequest, DescribeAclsResponse> = (ctx, request, _header, connection) => {
  const fail = (errorCode: number, errorMessage: string): DescribeAclsResponse => ({ throttleTimeMs: 0, errorCode, errorMessage, resources: [] });
  if (!connection.session.allows('describe', 'cluster', CLUSTER_NAME)) return fail(KafkaError.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
  const filter = aclFilterOf(request);
  if (typeof filter === 'string') return fail(KafkaError.INVALID_REQUEST, filter);
  const resources = new Map<string, DescribeAclsResponseDescribeAclsResource>();
  for (const acl of ctx.security.authorizer.acls(filter)) {
    const codes = kafkaCodes(acl);
    if (!codes) continue;
    const key = JSON.stringify([codes.resourceType, codes.patternType, codes.resourceName]);
    let resource = resources.get(key);
    if (!resource) resources.set(key, (resource = { resourceType: codes.resourceType, resourceName: codes.resourceName, patternType: codes.patternType, acls: [] }));
    resource.acls.push({ principal: codes.principal, host: codes.host, operation: codes.operation, permissionType: codes.permissionType });
  }
  return { throttleTimeMs: 0, errorCode: KafkaError.NONE, errorMessage: null, resources: [...resources.values()] };
};
