import { SCRAM_MECHANISMS, type User } from '../../../core/index.ts';
import type { DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { CLUSTER_NAME } from '../security/acl-codes.ts';
import { SCRAM_MECHANISM_CODES } from './alter-user-scram-credentials.ts';

/** Which SCRAM mechanisms (and iterations) each user has, never the keys; needs DESCRIBE on the cluster (Kafka's ScramImage.describe). */
export const handleDescribeUserScramCredentials: Handler<DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse> = (ctx, request, _header, connection) => {
  if (!connection.session.allows('describe', 'cluster', CLUSTER_NAME)) {
    return { throttleTimeMs: 0, errorCode: KafkaError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', results: [] };
  }
  const store = ctx.security.store;
  const named = request.users ?? [];
  const duplicated = new Map<string, boolean>();
  if (named.length === 0) for (const user of store.users()) if (hasScram(user)) duplicated.set(user.name, false);
  for (const { name } of named) duplicated.set(name, duplicated.has(name));
  const results = [...duplicated].map(([name, duplicate]) => {
    const result = { user: name, errorCode: KafkaError.NONE, errorMessage: null as string | null, credentialInfos: [] as Array<{ mechanism: number; iterations: number }> };
    if (duplicate) return { ...result, errorCode: KafkaError.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${name}` };
    const user = store.user(name);
    if (!user || !hasScram(user)) return { ...result, errorCode: KafkaError.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${name}` };
    for (const mechanism of SCRAM_MECHANISMS) {
      const credential = user.scram?.[mechanism];
      if (credential) result.credentialInfos.push({ mechanism: SCRAM_MECHANISM_CODES.get(mechanism)!, iterations: credential.iterations });
    }
    return result;
  });
  return { throttleTimeMs: 0, errorCode: KafkaError.NONE, errorMessage: null, results };
};

function hasScram(user: User): boolean {
  return SCRAM_MECHANISMS.some((m) => user.scram?.[m] !== undefined);
}
