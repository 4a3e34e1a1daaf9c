import { newScramCredential, TOKENS, type AclBinding, type Broker, type Security } from '../../core/index.ts';
import { startKafka, type KafkaTestBroker } from './kafka.ts';

/** Creates (or replaces) a user with SCRAM-SHA-256 and -512 credentials for `password`, as `wharf users add` does. */
export async function addUser(broker: Broker, name: string, password: string, options: { superUser?: boolean } = {}): Promise<void> {
  const security = broker.get<Security>(TOKENS.Security);
  const scram = {
    'SCRAM-SHA-256': await newScramCredential('SCRAM-SHA-256', password, 4096),
    'SCRAM-SHA-512': await newScramCredential('SCRAM-SHA-512', password, 4096),
  };
  await security.store.updateUser(name, () => ({ name, scram, ...(options.superUser ? { superUser: true } : {}) }));
}

export function addAcls(broker: Broker, ...acls: AclBinding[]): Promise<void> {
  return broker.get<Security>(TOKENS.Security).addAcls(acls);
}

/** A topic ACL for a user from any host. */
export const topicAcl = (user: string, topic: string, operation: AclBinding['operation'], permission: AclBinding['permission'] = 'allow'): AclBinding => ({
  resourceType: 'topic',
  resourceName: topic,
  patternType: 'literal',
  principal: `User:${user}`,
  host: '*',
  operation,
  permission,
});

/** A Kafka broker on a loopback port that, as if bound beyond loopback, refuses anonymous clients and allows only what ACLs grant. */
export function startSecureKafka(options: { kafka?: Record<string, unknown>; security?: Record<string, unknown> } = {}): Promise<KafkaTestBroker> {
  return startKafka({ config: { allowAnonymous: 'false', security: { failedAuthenticationDelayMs: 0, ...options.security } }, kafka: options.kafka });
}
