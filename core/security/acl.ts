import { createHash } from 'node:crypto';
import { BrokerError } from '../errors.ts';
import { checkPrincipal, type Principal } from './principal.ts';

/**
 * The ACL model every protocol maps onto (Kafka's, extended where RabbitMQ and RocketMQ need it):
 * a binding says that a principal, from a host, may (allow) or may not (deny) do an operation on the
 * resources a pattern names. Resource types are strings: Kafka's `cluster`, `topic`, `group`,
 * `transactional-id`, `delegation-token`, `user`; a Wharf topic is the same resource for Kafka and
 * RocketMQ, and so is a consumer group. Other protocols add their own types (AMQP `exchange`, `queue`,
 * `vhost`, `routing-key`) with a `scope` (the vhost) and `regex` patterns; see the README's security section.
 */
export type ResourceType = string;

export const OPERATIONS = [
  'all',
  'read',
  'write',
  'create',
  'delete',
  'alter',
  'describe',
  'cluster-action',
  'describe-configs',
  'alter-configs',
  'idempotent-write',
  'create-tokens',
  'describe-tokens',
] as const;
export type AclOperation = (typeof OPERATIONS)[number];

/** `literal` names one resource (`*`: every one), `prefixed` every name starting with it, `regex` every name it matches (AMQP permissions). */
export const PATTERN_TYPES = ['literal', 'prefixed', 'regex'] as const;
export type PatternType = (typeof PATTERN_TYPES)[number];

export type Permission = 'allow' | 'deny';

/** The name of a literal pattern that matches every resource of its type, and of a host that matches every host. */
export const WILDCARD = '*';

export interface AclBinding {
  readonly resourceType: ResourceType;
  readonly resourceName: string;
  readonly patternType: PatternType;
  /** The namespace the resource lives in (an AMQP vhost); absent for Kafka's resources. */
  readonly scope?: string;
  readonly principal: Principal;
  /** `*`, an IP address, or (a RocketMQ extension) a CIDR block such as `10.0.0.0/8`. */
  readonly host: string;
  readonly operation: AclOperation;
  readonly permission: Permission;
}

/**
 * Selects bindings, as Kafka's AclBindingFilter does: an absent field matches anything. With
 * `patternType: 'match'` and a name, it selects every binding that would apply to a resource of that
 * name (literal equal or `*`, prefixed a prefix of it); with a pattern type, only that pattern.
 */
export interface AclFilter {
  readonly resourceType?: ResourceType;
  readonly resourceName?: string;
  readonly patternType?: PatternType | 'match';
  readonly scope?: string;
  readonly principal?: Principal;
  readonly host?: string;
  readonly operation?: AclOperation;
  readonly permission?: Permission;
}

export function aclMatchesFilter(filter: AclFilter, acl: AclBinding): boolean {
  if (filter.resourceType !== undefined && filter.resourceType !== acl.resourceType) return false;
  if (filter.scope !== undefined && filter.scope !== (acl.scope ?? '')) return false;
  if (filter.patternType !== undefined && filter.patternType !== 'match' && filter.patternType !== acl.patternType) return false;
  if (filter.resourceName !== undefined) {
    if (filter.patternType === 'match') {
      if (!patternMatches(acl, filter.resourceName)) return false;
    } else if (filter.resourceName !== acl.resourceName) return false;
  }
  if (filter.principal !== undefined && filter.principal !== acl.principal) return false;
  if (filter.host !== undefined && filter.host !== acl.host) return false;
  if (filter.operation !== undefined && filter.operation !== acl.operation) return false;
  return filter.permission === undefined || filter.permission === acl.permission;
}

/** Whether the binding's pattern covers a resource of this name (its type and scope aside). */
export function patternMatches(acl: AclBinding, name: string): boolean {
  switch (acl.patternType) {
    case 'literal':
      return acl.resourceName === name || acl.resourceName === WILDCARD;
    case 'prefixed':
      return name.startsWith(acl.resourceName);
    case 'regex':
      return compiled(acl.resourceName).test(name);
  }
}

const regexes = new Map<string, RegExp>();
/** Regex patterns are compiled once; RabbitMQ's are unanchored, as its permissions are. */
export function compiled(source: string): RegExp {
  let re = regexes.get(source);
  if (!re) {
    if (regexes.size > 10_000) regexes.clear();
    regexes.set(source, (re = new RegExp(source)));
  }
  return re;
}

/** Rejects bindings no authorizer could evaluate: unknown names, an empty resource name, a bad principal or regex. */
export function checkAcl(acl: AclBinding): AclBinding {
  if (typeof acl.resourceType !== 'string' || acl.resourceType === '') throw invalid('resource type must not be empty');
  if (typeof acl.resourceName !== 'string' || acl.resourceName === '') throw invalid('Resource name should not be empty');
  if (!PATTERN_TYPES.includes(acl.patternType)) throw invalid(`Invalid patternType ${String(acl.patternType)}`);
  if (!OPERATIONS.includes(acl.operation)) throw invalid(`Invalid operation ${String(acl.operation)}`);
  if (acl.permission !== 'allow' && acl.permission !== 'deny') throw invalid(`Invalid permissionType ${String(acl.permission)}`);
  if (typeof acl.host !== 'string' || acl.host === '') throw invalid('host must not be empty');
  checkPrincipal(acl.principal);
  if (acl.patternType === 'regex') {
    try {
      compiled(acl.resourceName);
    } catch (err) {
      throw invalid(`invalid regular expression ${acl.resourceName}: ${(err as Error).message}`);
    }
  }
  return acl;
}

/** A stable id for a binding: equal bindings share it, so adding one twice stores it once (as Kafka does). */
export function aclId(acl: AclBinding): string {
  const fields = [acl.resourceType, acl.patternType, acl.scope ?? '', acl.resourceName, acl.principal, acl.host, acl.operation, acl.permission];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 32);
}

/** Only the fields of the model, for storage (a caller's object may carry more). */
export function aclOf(acl: AclBinding): AclBinding {
  const { resourceType, resourceName, patternType, scope, principal, host, operation, permission } = acl;
  return { resourceType, resourceName, patternType, ...(scope ? { scope } : {}), principal, host, operation, permission };
}

function invalid(message: string): BrokerError {
  return new BrokerError('INVALID_REQUEST', message);
}
