import type { AlterClientQuotasRequest, AlterClientQuotasResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { ClientQuotaStore, entityKey, isRefusal, type QuotaEntity } from '../quotas/client-quota-store.ts';
import { CLUSTER_NAME } from '../security/acl-codes.ts';

/**
 * Sets and removes client quotas (ALTER_CONFIGS on the cluster), each entity checked and answered on its
 * own as Kafka's controller does; the accepted ones are stored in one durable write (none with validateOnly)
 * and enforced from the next request on.
 */
export const handleAlterClientQuotas: Handler<AlterClientQuotasRequest, AlterClientQuotasResponse> = async (ctx, request, _header, connection) => {
  const allowed = connection.session.allows('alter-configs', 'cluster', CLUSTER_NAME);
  const store = ctx.quotas.stored;
  const results = request.entries.map((entry) => ({ errorCode: KafkaError.NONE as number, errorMessage: null as string | null, entity: entry.entity }));
  const accepted: Array<{ index: number; entity: QuotaEntity; values: Record<string, number> }> = [];
  const seen = new Set<string>();
  request.entries.forEach((entry, index) => {
    const fail = (errorCode: number, errorMessage: string | null) => Object.assign(results[index]!, { errorCode, errorMessage });
    if (!allowed) return fail(KafkaError.CLUSTER_AUTHORIZATION_FAILED, null);
    const entity = ClientQuotaStore.entityOf(entry.entity);
    if (isRefusal(entity)) return fail(entity.errorCode, entity.message);
    if (seen.has(entityKey(entity))) return fail(KafkaError.INVALID_REQUEST, 'Duplicate entity in the request');
    seen.add(entityKey(entity));
    const changes = new Map<string, number | null>();
    for (const op of entry.ops) {
      if (changes.has(op.key)) return fail(KafkaError.INVALID_REQUEST, `Duplicate quota key ${op.key} not updating quota for this entity`);
      changes.set(op.key, op.remove ? null : op.value);
    }
    const values = ClientQuotaStore.validate(entity, store.get(entity) ?? {}, changes);
    if (isRefusal(values)) return fail(values.errorCode, values.message);
    accepted.push({ index, entity, values });
  });
  if (!request.validateOnly && accepted.length > 0) {
    try {
      await store.write(accepted);
      ctx.quotas.changed();
    } catch (err) {
      ctx.logger.error({ err }, 'storing client quotas failed');
      for (const { index } of accepted) Object.assign(results[index]!, { errorCode: kafkaErrorOf(err), errorMessage: (err as Error).message });
    }
  }
  return { throttleTimeMs: 0, entries: results };
};
