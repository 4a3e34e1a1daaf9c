import { AdminError, AdminReply, type AdminRequest, type AdminRoute } from '../../../core/index.ts';
import { SERVER_VERSION } from '../amqp-context.ts';
import type { Vhost } from '../model/vhost.ts';
import { permissionMismatch, permissionsOf, userJson, userMismatch } from './access-routes.ts';
import { tableToJson, jsonBoolean, jsonToTable, type Json } from './json-values.ts';
import type { ManagementContext } from './management-context.ts';
import { asHttp, HTTP_CONNECTION } from './queue-routes.ts';

type Definition = Record<string, Json>;

/** RabbitMQ's export rules: queues not owned by a connection, exchanges but the default and amq.*, bindings from a named exchange to exported things. */
function vhostDefinitions(vhost: Vhost, withVhost: boolean): { queues: Definition[]; exchanges: Definition[]; bindings: Definition[] } {
  const v = (d: Definition): Definition => (withVhost ? { ...d, vhost: vhost.name } : d);
  const queues = [...vhost.queues.values()]
    .filter((q) => q.spec.exclusiveOwner === null)
    .map((q) => v({ name: q.name, durable: q.spec.durable, auto_delete: q.spec.autoDelete, arguments: tableToJson(q.spec.arguments) }));
  const exported = new Set(queues.map((q) => q.name as string));
  const exchanges = [...vhost.exchanges.values()]
    .filter((x) => x.name !== '' && !x.name.startsWith('amq.'))
    .map((x) => v({ name: x.name, type: x.spec.type, durable: x.spec.durable, auto_delete: x.spec.autoDelete, internal: x.spec.internal, arguments: tableToJson(x.spec.arguments) }));
  const bindings: Definition[] = [];
  for (const exchange of vhost.exchanges.values()) {
    if (exchange.name === '') continue;
    for (const b of exchange.allBindings()) {
      if (b.destination.kind === 'queue' ? !exported.has(b.destination.name) : b.destination.name === '') continue;
      bindings.push(
        v({ source: exchange.name, destination: b.destination.name, destination_type: b.destination.kind, routing_key: b.routingKey, arguments: tableToJson(b.arguments) }),
      );
    }
  }
  return { queues, exchanges, bindings };
}

function exportAll(ctx: ManagementContext): Json {
  const all = { queues: [] as Definition[], exchanges: [] as Definition[], bindings: [] as Definition[] };
  for (const vhost of ctx.server.vhosts.values()) {
    const d = vhostDefinitions(vhost, true);
    all.queues.push(...d.queues);
    all.exchanges.push(...d.exchanges);
    all.bindings.push(...d.bindings);
  }
  return {
    rabbit_version: SERVER_VERSION,
    rabbitmq_version: SERVER_VERSION,
    product_name: 'RabbitMQ',
    product_version: SERVER_VERSION,
    users: ctx.server.users.list().map(userJson),
    vhosts: [...ctx.server.vhosts.keys()].map((name) => ({ name })),
    permissions: permissionsOf(ctx.server.users),
    topic_permissions: [],
    parameters: [],
    global_parameters: [{ name: 'internal_cluster_id', value: ctx.identity.clusterId }],
    policies: [],
    ...all,
  };
}

const list = (defs: Record<string, unknown>, key: string): Array<Record<string, unknown>> => {
  const value = defs[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((d) => d !== null && typeof d === 'object' && !Array.isArray(d))) throw AdminError.badRequest(`${key} must be a list of objects`);
  return value as Array<Record<string, unknown>>;
};

const text = (d: Record<string, unknown>, key: string, what: string): string => {
  const value = d[key];
  if (typeof value !== 'string') throw AdminError.badRequest(`${what}: ${key} must be a string`);
  return value;
};

/**
 * Applies definitions as RabbitMQ's import does: users, vhosts and permissions must be those of the
 * configuration (Wharf reads them from amqp.users and amqp.vhosts); queues and exchanges are declared
 * unless they exist (existing ones are left as they are); bindings are added. Everything is checked
 * before anything is changed.
 */
async function importDefinitions(ctx: ManagementContext, body: unknown, only: Vhost | undefined): Promise<void> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) throw AdminError.badRequest('failed_to_parse_json');
  const defs = body as Record<string, unknown>;
  const vhostNamed = (d: Record<string, unknown>, what: string): Vhost => {
    if (only) return only;
    const name = text(d, 'vhost', what);
    const vhost = ctx.server.vhosts.get(name);
    if (!vhost) throw AdminError.badRequest(`${what}: vhost '${name}' is not configured (amqp.vhosts)`);
    return vhost;
  };
  if (!only) {
    for (const user of list(defs, 'users')) {
      const problem = userMismatch(ctx.server.users, user);
      if (problem) throw AdminError.badRequest(`${problem}: users are read from amqp.users, configure them there`);
    }
    for (const v of list(defs, 'vhosts')) {
      const name = text(v, 'name', 'vhost');
      if (!ctx.server.vhosts.has(name)) throw AdminError.badRequest(`vhost '${name}' is not configured: vhosts are read from amqp.vhosts`);
    }
    for (const p of list(defs, 'permissions')) {
      const problem = permissionMismatch(ctx.server.users, p);
      if (problem) throw AdminError.badRequest(`${problem}: permissions are read from amqp.users`);
    }
    if (list(defs, 'topic_permissions').length > 0) throw AdminError.badRequest('topic permissions are not supported');
  }
  if (list(defs, 'policies').length > 0) throw AdminError.badRequest('policies are not supported');
  const exchanges = list(defs, 'exchanges').map((x) => {
    const name = text(x, 'name', 'exchange');
    return { vhost: vhostNamed(x, `exchange ${name}`), name, type: text(x, 'type', `exchange ${name}`), durable: jsonBoolean(x, 'durable', true), autoDelete: jsonBoolean(x, 'auto_delete', false), internal: jsonBoolean(x, 'internal', false), arguments: jsonToTable(x.arguments) };
  });
  const queues = list(defs, 'queues').map((q) => {
    const name = text(q, 'name', 'queue');
    return { vhost: vhostNamed(q, `queue ${name}`), name, durable: jsonBoolean(q, 'durable', true), autoDelete: jsonBoolean(q, 'auto_delete', false), arguments: jsonToTable(q.arguments) };
  });
  const bindings = list(defs, 'bindings').map((b) => {
    const kind = text(b, 'destination_type', 'binding');
    if (kind !== 'queue' && kind !== 'exchange') throw AdminError.badRequest('binding: destination_type must be queue or exchange');
    return { vhost: vhostNamed(b, 'binding'), source: text(b, 'source', 'binding'), destination: { kind, name: text(b, 'destination', 'binding') } as const, routingKey: typeof b.routing_key === 'string' ? b.routing_key : '', arguments: jsonToTable(b.arguments) };
  });
  await asHttp(async () => {
    for (const x of exchanges) {
      if (x.name.startsWith('amq.') || x.vhost.exchanges.has(x.name)) continue;
      await x.vhost.declareExchange({ name: x.name, type: x.type, passive: false, durable: x.durable, autoDelete: x.autoDelete, internal: x.internal, arguments: x.arguments });
    }
    for (const q of queues) {
      if (q.name.startsWith('amq.') || q.vhost.queues.has(q.name)) continue;
      await q.vhost.declareQueue({ name: q.name, passive: false, durable: q.durable, exclusive: false, autoDelete: q.autoDelete, arguments: q.arguments }, HTTP_CONNECTION);
    }
    for (const b of bindings) await b.vhost.bind(b.source, b.destination, b.routingKey, b.arguments);
  });
}

export function definitionsRoutes(ctx: ManagementContext): AdminRoute[] {
  const vhostParam = (request: AdminRequest): Vhost | undefined => ctx.server.vhosts.get(request.params.vhost!);
  return [
    { method: 'GET', path: '/api/definitions', access: 'administrator', summary: 'exports users, vhosts, permissions, queues, exchanges and bindings (RabbitMQ\'s format)', handler: () => exportAll(ctx) },
    {
      method: 'POST',
      path: '/api/definitions',
      access: 'administrator',
      summary: 'imports definitions (RabbitMQ\'s format); users, vhosts and permissions must match the configuration',
      handler: async ({ body }) => {
        await importDefinitions(ctx, body, undefined);
        return AdminReply.noContent;
      },
    },
    {
      method: 'GET',
      path: '/api/definitions/:vhost',
      access: 'administrator',
      summary: 'exports one vhost\'s queues, exchanges and bindings',
      handler: (request) => {
        const vhost = vhostParam(request);
        if (!vhost) throw AdminError.badRequest('vhost_not_found');
        return { rabbit_version: SERVER_VERSION, parameters: [], policies: [], ...vhostDefinitions(vhost, false) };
      },
    },
    {
      method: 'POST',
      path: '/api/definitions/:vhost',
      access: 'administrator',
      summary: 'imports queues, exchanges and bindings into one vhost',
      handler: async (request) => {
        const vhost = vhostParam(request);
        if (!vhost) throw new AdminError(404, 'not_found', 'vhost_not_found');
        await importDefinitions(ctx, request.body, vhost);
        return AdminReply.noContent;
      },
    },
  ];
}
