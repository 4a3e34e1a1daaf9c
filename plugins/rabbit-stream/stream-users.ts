import { timingSafeEqual } from 'node:crypto';
import { isLoopback, normalizeHost, rabbitPasswordMatches, userPrincipal, type Principal, type Security } from '../../core/index.ts';
import type { StreamUserSpec } from './stream-config.ts';

export type Permission = 'configure' | 'write' | 'read';

const OPERATION = { configure: 'alter', write: 'write', read: 'read' } as const;

/** Who logged in, and what RabbitMQ's permissions let it do on streams (a stream is a queue resource). */
export class StreamUser {
  constructor(
    readonly name: string,
    private readonly principal: Principal,
    private readonly spec: StreamUserSpec | undefined,
    private readonly host: string,
    private readonly security: Security,
  ) {}

  canOpenVhost(vhost: string): boolean {
    if (this.spec) return Object.hasOwn(this.spec.permissions, vhost);
    return this.decide('read', 'vhost', vhost, '');
  }

  allows(vhost: string, permission: Permission, stream: string): boolean {
    if (this.spec) {
      const source = Object.hasOwn(this.spec.permissions, vhost) ? this.spec.permissions[vhost]![permission] : '';
      return source !== '' && new RegExp(source).test(stream);
    }
    return this.decide(OPERATION[permission], 'queue', stream, vhost);
  }

  private decide(operation: 'alter' | 'write' | 'read', resourceType: string, name: string, scope: string): boolean {
    const authorizer = this.security.authorizer;
    if (authorizer.isSuperUser(this.principal)) return true;
    const bindings = authorizer.matching(this.principal, this.host, operation, resourceType, name, scope);
    return bindings.some((acl) => acl.permission === 'allow') && !bindings.some((acl) => acl.permission === 'deny');
  }
}

export type LoginResult = { user: StreamUser } | { refused: 'credentials' | 'loopback' };

/**
 * The stream listener's users, as the AMQP listener's: the broker's security store first (`wharf users
 * add`, permissions as ACL bindings), then the `stream.users` setting (default guest/guest, loopback only).
 */
export class StreamUsers {
  private readonly specs: Map<string, StreamUserSpec>;
  private readonly loopbackUsers: ReadonlySet<string>;

  constructor(
    specs: readonly StreamUserSpec[],
    loopbackUsers: readonly string[],
    private readonly security: Security,
  ) {
    this.specs = new Map(specs.map((s) => [s.name, s]));
    this.loopbackUsers = new Set(loopbackUsers);
  }

  async login(name: string, password: string, remoteAddress: string | undefined): Promise<LoginResult> {
    const host = normalizeHost(remoteAddress);
    const spec = this.security.store.user(name) ? undefined : this.specs.get(name);
    let ok: boolean;
    if (spec) ok = spec.passwordHash !== undefined ? rabbitPasswordMatches(spec.passwordHash, password) : safeEqual(spec.password ?? '', password);
    else ok = (await this.security.verifyPassword(name, password)) !== undefined;
    if (!ok) return { refused: 'credentials' };
    if ((this.loopbackUsers.has(name) || spec?.loopbackOnly === true) && !isLoopback(remoteAddress ?? '')) return { refused: 'loopback' };
    return { user: new StreamUser(name, userPrincipal(name), spec, host, this.security) };
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
