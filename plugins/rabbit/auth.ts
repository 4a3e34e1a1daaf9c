import { timingSafeEqual } from 'node:crypto';
import { isLoopback, normalizeHost, rabbitPasswordMatches, userPrincipal, WILDCARD, type AclBinding, type AclOperation, type Principal, type Security } from '../../core/index.ts';
import { decodeTable, fieldText } from './codec/index.ts';
import type { UserSpec } from './amqp-config.ts';

export interface Credentials {
  user: string;
  password: string;
}

export type Permission = 'configure' | 'write' | 'read';
export type ResourceKind = 'exchange' | 'queue';

/** PLAIN (`\0user\0password`) and AMQPLAIN (a field table without its size: LOGIN, PASSWORD). */
export function parseCredentials(mechanism: string, response: Buffer): Credentials | undefined {
  if (mechanism === 'PLAIN') {
    const parts = response.toString('utf8').split('\u0000');
    return parts.length === 3 ? { user: parts[1]!, password: parts[2]! } : undefined;
  }
  if (mechanism === 'AMQPLAIN') {
    try {
      const table = decodeTable(response, 0, response.length);
      const user = fieldText(table.get('LOGIN'));
      const password = fieldText(table.get('PASSWORD'));
      return user !== undefined && password !== undefined ? { user, password } : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** How RabbitMQ's permissions map onto core ACL operations (configure creates, deletes and alters resources). */
export const OPERATION_OF: Readonly<Record<Permission, AclOperation>> = { configure: 'alter', write: 'write', read: 'read' };

/** The scope of topic-permission bindings: routing keys live in one exchange of one vhost. */
export const topicScope = (vhost: string, exchange: string): string => JSON.stringify([vhost, exchange]);

/** Who logged in: a user of the `amqp.users` setting (`spec`), or of the broker's security store. */
export interface AmqpUser {
  readonly name: string;
  readonly principal: Principal;
  readonly spec?: UserSpec;
}

/**
 * AMQP's users: those of the broker's security store (`wharf users add`, with SCRAM keys or an imported
 * RabbitMQ hash) and, for names the store does not hold, the `amqp.users` setting (the default guest).
 * Logins check the password, then RabbitMQ's `loopback_users`. What a user may do comes from its
 * `amqp.users` entry, or for store users from ACL bindings (see `AmqpAccess`).
 */
export class UserDirectory {
  private readonly specs: Map<string, UserSpec>;
  private readonly loopbackUsers: ReadonlySet<string>;

  constructor(
    specs: readonly UserSpec[],
    readonly security: Security,
    loopbackUsers: readonly string[],
  ) {
    this.specs = new Map(specs.map((spec) => [spec.name, spec]));
    this.loopbackUsers = new Set(loopbackUsers);
  }

  /** The user whose password this is, if it may log in from `remoteAddress`. */
  async authenticate(credentials: Credentials, remoteAddress: string | undefined): Promise<AmqpUser | undefined> {
    const user = await this.checkPassword(credentials);
    return user && this.fromAllowedHost(user, remoteAddress) ? user : undefined;
  }

  /** RabbitMQ's loopback_users (and a spec's loopbackOnly): such users may connect only from a loopback address. */
  fromAllowedHost(user: AmqpUser, remoteAddress: string | undefined): boolean {
    const loopbackOnly = this.loopbackUsers.has(user.name) || user.spec?.loopbackOnly === true;
    return !loopbackOnly || isLoopback(remoteAddress ?? '');
  }

  /**
   * EXTERNAL (rabbitmq_auth_mechanism_ssl): the user a verified client certificate names must exist (in
   * the store or `amqp.users`); no password is checked, the loopback rule is.
   */
  authenticateExternal(name: string, remoteAddress: string | undefined): AmqpUser | undefined {
    const spec = this.security.store.user(name) ? undefined : this.specs.get(name);
    if (!spec && !this.security.store.user(name)) return undefined;
    const user: AmqpUser = { name, principal: userPrincipal(name), ...(spec && { spec }) };
    return this.fromAllowedHost(user, remoteAddress) ? user : undefined;
  }

  /** The users of the `amqp.users` setting (the management API's users and definitions). */
  list(): UserSpec[] {
    return [...this.specs.values()];
  }

  get(name: string): UserSpec | undefined {
    return this.specs.get(name);
  }

  /** What `name` may do as the management API checks it (no connection: any host). */
  accessOf(name: string): AmqpAccess {
    const spec = this.security.store.user(name) ? undefined : this.specs.get(name);
    return this.access({ name, principal: userPrincipal(name), ...(spec && { spec }) }, undefined);
  }

  /** A per-connection view of what the user may do. */
  access(user: AmqpUser, remoteAddress: string | undefined): AmqpAccess {
    return new AmqpAccess(user, normalizeHost(remoteAddress), this.security);
  }

  private async checkPassword({ user: name, password }: Credentials): Promise<AmqpUser | undefined> {
    const spec = this.specs.get(name);
    if (spec && !this.security.store.user(name)) {
      const matches = spec.passwordHash !== undefined ? rabbitPasswordMatches(spec.passwordHash, password) : safeEqual(spec.password ?? '', password);
      return matches ? { name, principal: userPrincipal(name), spec } : undefined;
    }
    const user = await this.security.verifyPassword(name, password);
    return user && { name, principal: userPrincipal(name) };
  }
}

/**
 * What one connection's user may do, by RabbitMQ's rules. A user of the `amqp.users` setting has its
 * configure/write/read expressions per vhost. A store user has ACL bindings: `vhost` (operation read)
 * to open a vhost; `exchange` and `queue` scoped to the vhost, with operations alter (configure), write
 * and read, usually regex patterns (unanchored, as RabbitMQ's); `routing-key` scoped to a vhost and
 * exchange (`topicScope`) for topic permissions. Super users may do anything. Answers are cached until
 * the bindings change.
 */
export class AmqpAccess {
  private generation = -1;
  private readonly answers = new Map<string, boolean>();

  constructor(
    readonly user: AmqpUser,
    private readonly host: string,
    private readonly security: Security,
  ) {}

  canOpenVhost(vhost: string): boolean {
    const spec = this.user.spec;
    if (spec) return Object.hasOwn(spec.permissions, vhost);
    return this.decide('read', 'vhost', vhost, '');
  }

  allows(vhost: string, permission: Permission, kind: ResourceKind, name: string): boolean {
    const spec = this.user.spec;
    if (spec) {
      const source = Object.hasOwn(spec.permissions, vhost) ? spec.permissions[vhost]![permission] : '';
      return source !== '' && cachedRegExp(source).test(name);
    }
    return this.decide(OPERATION_OF[permission], kind, name, vhost);
  }

  /**
   * The user's topic permissions on one exchange (RabbitMQ's check_topic_access), or undefined when it
   * has none there: then every routing key is allowed.
   */
  topicPermissions(vhost: string, exchange: string): TopicPermissions | undefined {
    if (this.user.spec || this.security.isSuperUser(this.user.principal)) return undefined;
    const principal = this.user.principal;
    const bindings = this.security.authorizer
      .acls({ resourceType: 'routing-key', scope: topicScope(vhost, exchange) })
      .filter((acl) => (acl.principal === principal || acl.principal === 'User:*') && (acl.host === WILDCARD || acl.host === this.host));
    return bindings.length === 0 ? undefined : new TopicPermissions(bindings, { username: this.user.name, vhost });
  }

  private decide(operation: AclOperation, resourceType: string, name: string, scope: string): boolean {
    const authorizer = this.security.authorizer;
    if (authorizer.generation !== this.generation || this.answers.size > 10_000) {
      this.generation = authorizer.generation;
      this.answers.clear();
    }
    const key = `${operation}\u0000${resourceType}\u0000${scope}\u0000${name}`;
    let allowed = this.answers.get(key);
    if (allowed === undefined) {
      if (authorizer.isSuperUser(this.user.principal)) allowed = true;
      else {
        // RabbitMQ has no "allowed when nothing is said": only a matching ALLOW (and no DENY) permits.
        const bindings = authorizer.matching(this.user.principal, this.host, operation, resourceType, name, scope);
        allowed = bindings.some((acl) => acl.permission === 'allow') && !bindings.some((acl) => acl.permission === 'deny');
      }
      this.answers.set(key, allowed);
    }
    return allowed;
  }
}

/** One user's write and read routing-key patterns on one exchange, with `{username}` and `{vhost}` expanded. */
export class TopicPermissions {
  private readonly rules: ReadonlyArray<{ operation: AclOperation; permission: AclBinding['permission']; pattern: RegExp }>;

  constructor(bindings: readonly AclBinding[], variables: { username: string; vhost: string }) {
    this.rules = bindings.map((acl) => ({
      operation: acl.operation,
      permission: acl.permission,
      pattern: patternOf(acl, variables),
    }));
  }

  /** An operation without any pattern has RabbitMQ's empty one, `^$`: only the empty routing key. */
  allows(permission: 'write' | 'read', routingKey: string): boolean {
    const operation = OPERATION_OF[permission];
    let allowed = false;
    let anyPattern = false;
    for (const rule of this.rules) {
      if (rule.operation !== operation && rule.operation !== 'all') continue;
      if (rule.permission === 'allow') anyPattern = true;
      if (!rule.pattern.test(routingKey)) continue;
      if (rule.permission === 'deny') return false;
      allowed = true;
    }
    return anyPattern ? allowed : routingKey === '';
  }
}

function patternOf(acl: AclBinding, { username, vhost }: { username: string; vhost: string }): RegExp {
  const source = acl.resourceName.replaceAll('{username}', username).replaceAll('{vhost}', vhost);
  switch (acl.patternType) {
    case 'regex':
      return cachedRegExp(source);
    case 'prefixed':
      return cachedRegExp(`^${escapeRegExp(source)}`);
    case 'literal':
      return source === WILDCARD ? /(?:)/ : cachedRegExp(`^${escapeRegExp(source)}$`);
  }
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const regexps = new Map<string, RegExp>();
function cachedRegExp(source: string): RegExp {
  let re = regexps.get(source);
  if (!re) {
    if (regexps.size > 10_000) regexps.clear();
    regexps.set(source, (re = new RegExp(source)));
  }
  return re;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The bindings that grant what `rabbitmqctl set_permissions -p <vhost> <user> <conf> <write> <read>` grants:
 * opening the vhost, and each non-empty expression on its exchanges and queues (an empty one grants nothing).
 */
export function permissionBindings(user: string, vhost: string, expressions: Record<Permission, string>): AclBinding[] {
  const principal = userPrincipal(user);
  const base = { principal, host: WILDCARD, permission: 'allow' } as const;
  const bindings: AclBinding[] = [{ ...base, resourceType: 'vhost', resourceName: vhost, patternType: 'literal', operation: 'read' }];
  for (const permission of ['configure', 'write', 'read'] as const) {
    if (expressions[permission] === '') continue;
    for (const kind of ['exchange', 'queue'] as const) {
      bindings.push({ ...base, resourceType: kind, resourceName: expressions[permission], patternType: 'regex', scope: vhost, operation: OPERATION_OF[permission] });
    }
  }
  return bindings;
}

/** The bindings of `rabbitmqctl set_topic_permissions -p <vhost> <user> <exchange> <write> <read>` (an empty expression is `^$`). */
export function topicPermissionBindings(user: string, vhost: string, exchange: string, expressions: { write: string; read: string }): AclBinding[] {
  return (['write', 'read'] as const).map((permission) => ({
    resourceType: 'routing-key',
    resourceName: expressions[permission] === '' ? '^$' : expressions[permission],
    patternType: 'regex',
    scope: topicScope(vhost, exchange),
    principal: userPrincipal(user),
    host: WILDCARD,
    operation: OPERATION_OF[permission],
    permission: 'allow',
  }));
}
