import { timingSafeEqual } from 'node:crypto';
import { decodeTable, fieldText } from './codec/index.ts';
import type { UserSpec } from './amqp-config.ts';

export interface Credentials {
  user: string;
  password: string;
}

export type Permission = 'configure' | 'write' | 'read';

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

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** Users, their loopback restriction and their per-vhost configure / write / read expressions. */
export class UserDirectory {
  private readonly users: Map<string, { spec: UserSpec; permissions: Map<string, Record<Permission, RegExp | null>> }>;

  constructor(users: readonly UserSpec[]) {
    this.users = new Map(
      users.map((spec) => [
        spec.name,
        {
          spec,
          permissions: new Map(
            Object.entries(spec.permissions).map(([vhost, p]) => [vhost, { configure: pattern(p.configure), write: pattern(p.write), read: pattern(p.read) }]),
          ),
        },
      ]),
    );
  }

  authenticate(credentials: Credentials, remoteAddress: string | undefined): UserSpec | undefined {
    const user = this.users.get(credentials.user);
    if (!user) return undefined;
    const given = Buffer.from(credentials.password);
    const expected = Buffer.from(user.spec.password);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (user.spec.loopbackOnly && !LOOPBACK.has(remoteAddress ?? '')) return undefined;
    return user.spec;
  }

  /**
   * EXTERNAL (rabbitmq_auth_mechanism_ssl): the user a verified client certificate names must exist; no
   * password is checked, the loopback restriction is.
   */
  authenticateExternal(name: string, remoteAddress: string | undefined): UserSpec | undefined {
    const user = this.users.get(name);
    if (!user || (user.spec.loopbackOnly && !LOOPBACK.has(remoteAddress ?? ''))) return undefined;
    return user.spec;
  }

  /** Every user, as configured. */
  list(): UserSpec[] {
    return [...this.users.values()].map((u) => u.spec);
  }

  get(name: string): UserSpec | undefined {
    return this.users.get(name)?.spec;
  }

  canAccessVhost(user: string, vhost: string): boolean {
    return this.users.get(user)?.permissions.has(vhost) ?? false;
  }

  allows(user: string, vhost: string, permission: Permission, resource: string): boolean {
    const expression = this.users.get(user)?.permissions.get(vhost)?.[permission];
    return expression !== null && expression !== undefined && expression.test(resource);
  }
}

/** An empty expression grants nothing, as in RabbitMQ. */
function pattern(source: string): RegExp | null {
  return source === '' ? null : new RegExp(source);
}
