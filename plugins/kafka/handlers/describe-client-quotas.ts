import type { DescribeClientQuotasRequest, DescribeClientQuotasResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { CLIENT_ID, IP, USER, type QuotaEntity } from '../quotas/client-quota-store.ts';
import { CLUSTER_NAME } from '../security/acl-codes.ts';

const EXACT = 0;
const DEFAULT = 1;
const SPECIFIED = 2;

/** The stored quotas whose entities match the filter, as Kafka's ClientQuotasImage.describe; DESCRIBE_CONFIGS on the cluster. */
export const handleDescribeClientQuotas: Handler<DescribeClientQuotasRequest, DescribeClientQuotasResponse> = (ctx, request, _header, connection) => {
  const failed = (errorCode: number, errorMessage: string | null): DescribeClientQuotasResponse => ({ throttleTimeMs: 0, errorCode, errorMessage, entries: null });
  if (!connection.session.allows('describe-configs', 'cluster', CLUSTER_NAME)) return failed(KafkaError.CLUSTER_AUTHORIZATION_FAILED, null);
  const exact = new Map<string, string | null>();
  const specified = new Set<string>();
  for (const c of request.components) {
    if (c.entityType === '') return failed(KafkaError.INVALID_REQUEST, 'Invalid empty entity type.');
    if (exact.has(c.entityType) || specified.has(c.entityType)) return failed(KafkaError.INVALID_REQUEST, `Entity type ${c.entityType} cannot appear more than once in the filter.`);
    if (c.entityType !== IP && c.entityType !== USER && c.entityType !== CLIENT_ID) return failed(KafkaError.UNSUPPORTED_VERSION, `Unsupported entity type ${c.entityType}`);
    if (c.matchType === EXACT) {
      if (c.match === null) return failed(KafkaError.INVALID_REQUEST, 'Request specified MATCH_TYPE_EXACT, but set match string to null.');
      exact.set(c.entityType, c.match);
    } else if (c.matchType === DEFAULT) {
      if (c.match !== null) return failed(KafkaError.INVALID_REQUEST, 'Request specified MATCH_TYPE_DEFAULT, but also specified a match string.');
      exact.set(c.entityType, null);
    } else if (c.matchType === SPECIFIED) {
      if (c.match !== null) return failed(KafkaError.INVALID_REQUEST, 'Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.');
      specified.add(c.entityType);
    } else return failed(KafkaError.INVALID_REQUEST, `Unknown match type ${c.matchType}`);
  }
  const has = (type: string) => exact.has(type) || specified.has(type);
  if (has(IP) && (has(USER) || has(CLIENT_ID))) {
    return failed(KafkaError.INVALID_REQUEST, 'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.');
  }
  const matches = (entity: QuotaEntity): boolean => {
    const types = Object.keys(entity);
    if (request.strict && types.length !== exact.size + specified.size) return false;
    for (const [type, name] of exact) if (!types.includes(type) || entity[type as keyof QuotaEntity] !== name) return false;
    for (const type of specified) if (!types.includes(type)) return false;
    return true;
  };
  const entries = [...ctx.quotas.stored.all()]
    .filter((q) => matches(q.entity))
    .map((q) => ({
      entity: Object.entries(q.entity).map(([entityType, entityName]) => ({ entityType, entityName: entityName ?? null })),
      values: Object.entries(q.values).map(([key, value]) => ({ key, value })),
    }));
  return { throttleTimeMs: 0, errorCode: KafkaError.NONE, errorMessage: null, entries };
};
