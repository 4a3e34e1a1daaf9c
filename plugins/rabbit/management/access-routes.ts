import { createHash, timingSafeEqual } from 'node:crypto';
import { AdminError, AdminReply, type AdminAuthenticator, type AdminRoute } from '../../../core/index.ts';
import type { UserSpec } from '../amqp-config.ts';
import type { UserDirectory } from '../auth.ts';
import { listReply, seesAll, vhostOf, vhostsOf, type ManagementContext } from './management-context.ts';
import { bodyObject, type Json } from './json-values.ts';

/**
 * The management API's credential check over the AMQP users: the same passwords and loopback rule
 * as AMQP logins, tags from the user's configuration.
 */
export function amqpUsersAuthenticator(users: UserDirectory): AdminAuthenticator {
  return async (user, password, remoteAddress) => {
    const found = await users.authenticate({ user, password }, remoteAddress);
    return found ? { name: found.name, tags: found.spec?.tags ?? users.security.store.user(found.name)?.tags ?? [] } : undefined;
  };
}

export const HASHING_ALGORITHM = 'rabbit_password_hashing_sha256';

/**
 * RabbitMQ's salted SHA-256 password hash (`base64(salt ‖ SHA-256(salt ‖ password))`). The 4-byte salt
 * is derived from the user name so that repeated exports of a configured password are identical.
 */
export function passwordHash(user: UserSpec): string {
  if (user.passwordHash !== undefined) return user.passwordHash;
  const salt = createHash('sha256').update(`wharf password salt\u0000${user.name}`).digest().subarray(0, 4);
  return Buffer.concat([salt, createHash('sha256').update(salt).update(user.password ?? '', 'utf8').digest()]).toString('base64');
}

/** Whether a RabbitMQ password hash (sha256, sha512 or legacy md5) is one of this password. */
export function hashMatches(hash: string, algorithm: string | undefined, password: string): boolean {
  const digest = { rabbit_password_hashing_sha256: 'sha256', rabbit_password_hashing_sha512: 'sha512', rabbit_password_hashing_md5: 'md5' }[algorithm ?? 'rabbit_password_hashing_md5'];
  if (digest === undefined) return false;
  const bytes = Buffer.from(hash, 'base64');
  if (bytes.length <= 4) return false;
  const expected = createHash(digest).update(bytes.subarray(0, 4)).update(password, 'utf8').digest();
  const given = bytes.subarray(4);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function userJson(user: UserSpec): Record<string, Json> {
  return { name: user.name, password_hash: passwordHash(user), hashing_algorithm: HASHING_ALGORITHM, tags: user.tags ?? [], limits: {} };
}

export function permissionsOf(users: UserDirectory): Array<Record<string, Json>> {
  return users.list().flatMap((u) => Object.entries(u.permissions).map(([vhost, p]) => ({ user: u.name, vhost, configure: p.configure, write: p.write, read: p.read })));
}

/** Why a user definition (`{name, password | password_hash, hashing_algorithm, tags}`) differs from the configured user, or undefined. */
export function userMismatch(users: UserDirectory, def: Record<string, unknown>): string | undefined {
  const name = String(def.name ?? '');
  const user = users.get(name);
  if (!user) return `user '${name}' is not configured`;
  if (typeof def.password === 'string') {
    if (def.password !== user.password) return `user '${name}' has another password`;
  } else if (typeof def.password_hash === 'string') {
    const same = user.password === undefined ? def.password_hash === user.passwordHash : hashMatches(def.password_hash, def.hashing_algorithm as string | undefined, user.password);
    if (def.password_hash !== '' && !same) return `user '${name}' has another password`;
  }
  const tags = Array.isArray(def.tags) ? def.tags.map(String) : typeof def.tags === 'string' ? def.tags.split(',').map((t) => t.trim()).filter(Boolean) : undefined;
  if (tags !== undefined && [...tags].sort().join() !== [...(user.tags ?? [])].sort().join()) return `user '${name}' has other tags`;
  return undefined;
}

/** Why a permission definition (`{user, vhost, configure, write, read}`) differs from the configured one, or undefined. */
export function permissionMismatch(users: UserDirectory, def: Record<string, unknown>): string | undefined {
  const user = users.get(String(def.user ?? ''));
  const configured = user?.permissions[String(def.vhost ?? '')];
  if (!configured) return `user '${String(def.user)}' has no permissions configured in vhost '${String(def.vhost)}'`;
  for (const kind of ['configure', 'write', 'read'] as const) {
    if (def[kind] !== undefined && def[kind] !== configured[kind]) return `the ${kind} permission of '${String(def.user)}' in vhost '${String(def.vhost)}' is configured otherwise`;
  }
  return undefined;
}

function vhostJson(ctx: ManagementContext, name: string): Record<string, Json> {
  const vhost = ctx.server.vhosts.get(name)!;
  let ready = 0;
  let unacked = 0;
  let publish = 0;
  let deliverGet = 0;
  let redeliver = 0;
  let ack = 0;
  for (const queue of vhost.queues.values()) {
    ready += queue.messageCount;
    unacked += queue.unackedCount;
    publish += queue.stats.published;
    deliverGet += queue.stats.delivered;
    redeliver += queue.stats.redelivered;
    ack += queue.stats.acked;
  }
  return {
    name,
    description: name === '/' ? 'Default virtual host' : '',
    tags: [],
    metadata: { description: name === '/' ? 'Default virtual host' : '', tags: [] },
    default_queue_type: 'undefined',
    tracing: false,
    cluster_state: { [ctx.identity.node]: 'running' },
    messages: ready + unacked,
    messages_ready: ready,
    messages_unacknowledged: unacked,
    message_stats: { publish, deliver_get: deliverGet, redeliver, ack },
  };
}

const READ_ONLY = 'users, vhosts and permissions are read from the configuration (amqp.users, amqp.vhosts); change them there';

/** Users, permissions, vhosts and whoami. Users and vhosts come from the configuration, so they are read-only here. */
export function accessRoutes(ctx: ManagementContext): AdminRoute[] {
  const users = () => ctx.server.users;
  const refuse = (): never => {
    throw new AdminError(405, 'method_not_allowed', READ_ONLY);
  };
  return [
    { method: 'GET', path: '/api/whoami', summary: 'the authenticated user and its tags', handler: ({ principal }) => ({ name: principal!.name, tags: principal!.tags }) },
    { method: 'GET', path: '/api/users', access: 'administrator', summary: 'users (from amqp.users)', handler: ({ query }) => listReply(users().list().map(userJson), query) },
    {
      method: 'GET',
      path: '/api/users/:user',
      access: 'administrator',
      summary: 'one user',
      handler: ({ params }) => {
        const user = users().get(params.user!);
        if (!user) throw AdminError.notFound();
        return userJson(user);
      },
    },
    {
      method: 'GET',
      path: '/api/users/:user/permissions',
      access: 'administrator',
      summary: 'one user\'s permissions in every vhost',
      handler: ({ params }) => {
        if (!users().get(params.user!)) throw AdminError.notFound();
        return permissionsOf(users()).filter((p) => p.user === params.user);
      },
    },
    {
      method: 'PUT',
      path: '/api/users/:user',
      access: 'administrator',
      summary: 'accepted when it matches the configured user (204), refused otherwise: users are configured in amqp.users',
      handler: ({ params, body }) => {
        const problem = userMismatch(users(), { ...bodyObject(body), name: params.user });
        if (problem) throw new AdminError(405, 'method_not_allowed', `${problem}; ${READ_ONLY}`);
        return AdminReply.noContent;
      },
    },
    { method: 'DELETE', path: '/api/users/:user', access: 'administrator', summary: 'refused: users are configured in amqp.users', handler: refuse },
    { method: 'GET', path: '/api/permissions', access: 'administrator', summary: 'every user\'s configure/write/read expressions per vhost', handler: ({ query }) => listReply(permissionsOf(users()), query, ['vhost', 'user']) },
    {
      method: 'GET',
      path: '/api/permissions/:vhost/:user',
      access: 'administrator',
      summary: 'one user\'s permissions in one vhost',
      handler: ({ params }) => {
        const found = permissionsOf(users()).find((p) => p.vhost === params.vhost && p.user === params.user);
        if (!found) throw AdminError.notFound();
        return found;
      },
    },
    {
      method: 'PUT',
      path: '/api/permissions/:vhost/:user',
      access: 'administrator',
      summary: 'accepted when it matches the configured permissions (204), refused otherwise',
      handler: ({ params, body }) => {
        const problem = permissionMismatch(users(), { ...bodyObject(body), vhost: params.vhost, user: params.user });
        if (problem) throw new AdminError(405, 'method_not_allowed', `${problem}; ${READ_ONLY}`);
        return AdminReply.noContent;
      },
    },
    { method: 'DELETE', path: '/api/permissions/:vhost/:user', access: 'administrator', summary: 'refused: permissions are configured in amqp.users', handler: refuse },
    {
      method: 'GET',
      path: '/api/vhosts',
      summary: 'virtual hosts with their message counts',
      handler: (request) => listReply(vhostsOf(ctx, request).map((v) => vhostJson(ctx, v.name)), request.query),
    },
    { method: 'GET', path: '/api/vhosts/:vhost', summary: 'one virtual host', handler: (request) => vhostJson(ctx, vhostOf(ctx, request).name) },
    {
      method: 'GET',
      path: '/api/vhosts/:vhost/permissions',
      summary: 'the permissions of every user in one vhost',
      handler: (request) => {
        const vhost = vhostOf(ctx, request).name;
        if (!seesAll(request.principal)) throw new AdminError(401, 'not_authorised', 'Not administrator user');
        return permissionsOf(users()).filter((p) => p.vhost === vhost);
      },
    },
    {
      method: 'PUT',
      path: '/api/vhosts/:vhost',
      access: 'administrator',
      summary: 'accepted for a configured vhost (204), refused for others: vhosts are configured in amqp.vhosts',
      handler: ({ params }) => (ctx.server.vhosts.has(params.vhost!) ? AdminReply.noContent : refuse()),
    },
    { method: 'DELETE', path: '/api/vhosts/:vhost', access: 'administrator', summary: 'refused: vhosts are configured in amqp.vhosts', handler: refuse },
  ];
}
