import { BrokerError, MAX_SCRAM_ITERATIONS, MIN_SCRAM_ITERATIONS, scramCredential, type ScramMechanism, type User } from '../../../core/index.ts';
import type { AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse, AlterUserScramCredentialsResponseAlterUserScramCredentialsResult } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { CLUSTER_NAME } from '../security/acl-codes.ts';

/** Kafka's ScramMechanism type codes. */
export const SCRAM_MECHANISM_CODES: ReadonlyMap<ScramMechanism, number> = new Map([
  ['SCRAM-SHA-256', 1],
  ['SCRAM-SHA-512', 2],
]);
const MECHANISM_BY_CODE = new Map([...SCRAM_MECHANISM_CODES].map(([m, c]) => [c, m]));

type Result = AlterUserScramCredentialsResponseAlterUserScramCredentialsResult;
type Change = { name: string; mechanism: ScramMechanism; apply: (user: User | undefined) => User | undefined };

/**
 * Adds, replaces and removes SCRAM credentials, as Kafka's ScramControlManager: one change per user per
 * request (a second is DUPLICATE_RESOURCE), 4096-16384 iterations, known mechanisms only. The client
 * sends the salted password; the broker keeps only the salt and the keys derived from it. A user left
 * with no credential at all is removed. Needs ALTER on the cluster.
 */
export const handleAlterUserScramCredentials: Handler<AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse> = async (ctx, request, _header, connection) => {
  if (!connection.session.allows('alter', 'cluster', CLUSTER_NAME)) {
    const users = [...new Set([...request.deletions, ...request.upsertions].map((c) => c.name))];
    return { throttleTimeMs: 0, results: users.map((user) => ({ user, errorCode: KafkaError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' })) };
  }
  const store = ctx.security.store;
  const errors = new Map<string, Result>();
  const deletions = new Map<string, Change>();
  const upsertions = new Map<string, Change>();
  const refuse = (user: string, errorCode: number, errorMessage: string) => errors.set(user, { user, errorCode, errorMessage });
  const duplicate = (user: string) => refuse(user, KafkaError.DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request');
  const mechanismOf = (name: string, code: number): ScramMechanism | undefined => {
    if (name === '') refuse(name, KafkaError.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty');
    else if (!MECHANISM_BY_CODE.has(code)) refuse(name, KafkaError.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism');
    else return MECHANISM_BY_CODE.get(code);
    return undefined;
  };
  for (const { name, mechanism: code } of request.deletions) {
    if (errors.has(name)) continue;
    if (deletions.delete(name)) {
      duplicate(name);
      continue;
    }
    const mechanism = mechanismOf(name, code);
    if (!mechanism) continue;
    if (!store.user(name)?.scram?.[mechanism]) refuse(name, KafkaError.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist');
    else deletions.set(name, { name, mechanism, apply: (user) => withoutCredential(user, mechanism) });
  }
  for (const { name, mechanism: code, iterations, salt, saltedPassword } of request.upsertions) {
    if (errors.has(name)) continue;
    if (deletions.delete(name) || upsertions.delete(name)) {
      duplicate(name);
      continue;
    }
    const mechanism = mechanismOf(name, code);
    if (!mechanism) continue;
    if (iterations < MIN_SCRAM_ITERATIONS) refuse(name, KafkaError.UNACCEPTABLE_CREDENTIAL, 'Too few iterations');
    else if (iterations > MAX_SCRAM_ITERATIONS) refuse(name, KafkaError.UNACCEPTABLE_CREDENTIAL, 'Too many iterations');
    else {
      const credential = scramCredential(mechanism, saltedPassword, salt, iterations);
      upsertions.set(name, { name, mechanism, apply: (user) => ({ ...user, name, scram: { ...user?.scram, [mechanism]: credential } }) });
    }
  }
  const results: Result[] = [];
  for (const change of [...deletions.values(), ...upsertions.values()]) {
    try {
      await store.updateUser(change.name, change.apply);
      results.push({ user: change.name, errorCode: KafkaError.NONE, errorMessage: null });
    } catch (err) {
      if (!BrokerError.is(err)) ctx.logger.error({ err, user: change.name }, 'a SCRAM credential could not be stored');
      results.push({ user: change.name, errorCode: kafkaErrorOf(err), errorMessage: (err as Error).message });
    }
  }
  if (results.length > 0) ctx.logger.info({ principal: connection.session.principal, deleted: [...deletions.keys()], upserted: [...upsertions.keys()] }, 'SCRAM credentials altered');
  return { throttleTimeMs: 0, results: [...results, ...errors.values()] };
};

/** The user without one SCRAM credential; undefined once nothing is left to keep it for. */
function withoutCredential(user: User | undefined, mechanism: ScramMechanism): User | undefined {
  if (!user) return undefined;
  const { [mechanism]: _removed, ...scram } = user.scram ?? {};
  const rest: User = { ...user, scram };
  const empty = Object.keys(scram).length === 0 && !rest.passwordHash && !rest.secretKey && !rest.superUser && !(rest.tags?.length);
  return empty ? undefined : rest;
}
