import { AdminError, AdminReply, type AdminRequest, type AdminRoute } from '../../../core/index.ts';
import { encodePropertiesBytes } from '../codec/index.ts';
import type { Destination, Exchange } from '../model/exchange.ts';
import { storedMessageOf } from '../model/published-properties.ts';
import type { Vhost } from '../model/vhost.ts';
import { bindingJson, defaultBindingJson, exchangeJson, propertiesKey } from './formats.ts';
import { bodyObject, jsonBoolean, jsonToProperties, jsonToTable, type Json } from './json-values.ts';
import { listReply, requirePermission, vhostOf, vhostsOf, type ManagementContext } from './management-context.ts';
import { asHttp, queueOf } from './queue-routes.ts';

/** URLs name the default exchange `amq.default`. */
const exchangeName = (name: string): string => (name === 'amq.default' ? '' : name);

function exchangeOf(vhost: Vhost, name: string): Exchange {
  const exchange = vhost.exchanges.get(exchangeName(name));
  if (!exchange) throw AdminError.notFound();
  return exchange;
}

/** RabbitMQ's default order of binding lists. */
const BINDING_ORDER = ['vhost', 'source', 'type', 'destination', 'routing_key', 'properties_key'];

/** Every binding of a vhost as RabbitMQ lists them: the default exchange's implicit ones first. */
function vhostBindings(vhost: Vhost): Array<Record<string, Json>> {
  const out = [...vhost.queues.keys()].map((q) => defaultBindingJson(vhost.name, q));
  for (const exchange of vhost.exchanges.values()) for (const b of exchange.allBindings()) out.push(bindingJson(vhost.name, exchange.name, b));
  return out;
}

export function exchangeRoutes(ctx: ManagementContext): AdminRoute[] {
  const listExchanges = (request: AdminRequest) =>
    listReply(
      vhostsOf(ctx, request).flatMap((v) => [...v.exchanges.values()].map((x) => exchangeJson(v.name, x))),
      request.query,
    );
  const listBindings = (request: AdminRequest) => listReply(vhostsOf(ctx, request).flatMap(vhostBindings), request.query, BINDING_ORDER);
  const between = (kind: Destination['kind']) => (request: AdminRequest) => {
    const vhost = vhostOf(ctx, request);
    const source = exchangeOf(vhost, request.params.source!);
    destinationOf(vhost, kind, request.params.destination!);
    return [...source.allBindings()].filter((b) => b.destination.kind === kind && b.destination.name === request.params.destination).map((b) => bindingJson(vhost.name, source.name, b));
  };
  const bind = (kind: Destination['kind']) => async (request: AdminRequest) => {
    const vhost = vhostOf(ctx, request);
    const source = exchangeOf(vhost, request.params.source!);
    const destination = destinationOf(vhost, kind, request.params.destination!);
    requireBindingPermissions(request, vhost, source.name, destination);
    const body = bodyObject(request.body);
    const routingKey = body.routing_key === undefined ? '' : body.routing_key;
    if (typeof routingKey !== 'string' || Buffer.byteLength(routingKey) > 255) throw AdminError.badRequest('routing_key must be a string of at most 255 bytes');
    const args = jsonToTable(body.arguments);
    await asHttp(() => vhost.bind(source.name, destination, routingKey, args));
    return new AdminReply(201, undefined, { location: `${encodeURIComponent(destination.name)}/${propertiesKey(routingKey, args)}` });
  };
  const findBinding = (kind: Destination['kind'], request: AdminRequest) => {
    const vhost = vhostOf(ctx, request);
    const source = exchangeOf(vhost, request.params.source!);
    const binding = [...source.allBindings()].find(
      (b) => b.destination.kind === kind && b.destination.name === request.params.destination && propertiesKey(b.routingKey, b.arguments) === request.params.props,
    );
    if (!binding) throw AdminError.notFound();
    return { vhost, source, binding };
  };
  /** queue.bind's rule: write on the destination, read on the source. */
  const requireBindingPermissions = (request: AdminRequest, vhost: Vhost, source: string, destination: Destination) => {
    requirePermission(ctx, request, vhost, 'write', destination.kind, destination.name);
    requirePermission(ctx, request, vhost, 'read', 'exchange', source);
  };
  const routes: AdminRoute[] = [
    { method: 'GET', path: '/api/exchanges', summary: 'every exchange', handler: listExchanges },
    { method: 'GET', path: '/api/exchanges/:vhost', summary: 'the exchanges of one vhost', handler: listExchanges },
    {
      method: 'GET',
      path: '/api/exchanges/:vhost/:name',
      summary: 'one exchange (the default one is amq.default)',
      handler: (request) => ({ ...exchangeJson(request.params.vhost!, exchangeOf(vhostOf(ctx, request), request.params.name!)), incoming: [], outgoing: [] }),
    },
    {
      method: 'PUT',
      path: '/api/exchanges/:vhost/:name',
      summary: 'declares an exchange: {type, durable, auto_delete, internal, arguments}; 201 created, 204 existed',
      handler: async (request) => {
        const vhost = vhostOf(ctx, request);
        const name = request.params.name!;
        const body = bodyObject(request.body);
        if (body.type === undefined) throw AdminError.badRequest('[{key_missing,type}]');
        if (typeof body.type !== 'string') throw AdminError.badRequest('type must be a string');
        requirePermission(ctx, request, vhost, 'configure', 'exchange', exchangeName(name));
        const existed = vhost.exchanges.has(name);
        await asHttp(() =>
          vhost.declareExchange({
            name: exchangeName(name),
            type: body.type as string,
            passive: false,
            durable: jsonBoolean(body, 'durable', true),
            autoDelete: jsonBoolean(body, 'auto_delete', false),
            internal: jsonBoolean(body, 'internal', false),
            arguments: jsonToTable(body.arguments),
          }),
        );
        return existed ? AdminReply.noContent : AdminReply.created;
      },
    },
    {
      method: 'DELETE',
      path: '/api/exchanges/:vhost/:name',
      summary: 'deletes an exchange; ?if-unused=true as exchange.delete',
      handler: async (request) => {
        const vhost = vhostOf(ctx, request);
        const exchange = exchangeOf(vhost, request.params.name!);
        requirePermission(ctx, request, vhost, 'configure', 'exchange', exchange.name);
        await asHttp(() => vhost.deleteExchange(exchange.name, request.query['if-unused'] === 'true'));
        return AdminReply.noContent;
      },
    },
    {
      method: 'POST',
      path: '/api/exchanges/:vhost/:name/publish',
      summary: 'publishes {routing_key, payload, payload_encoding (string|base64), properties}; answers {routed} once stored',
      handler: (request) => {
        const vhost = vhostOf(ctx, request);
        requirePermission(ctx, request, vhost, 'write', 'exchange', exchangeOf(vhost, request.params.name!).name);
        return publish(vhost, request);
      },
    },
    {
      method: 'GET',
      path: '/api/exchanges/:vhost/:name/bindings/source',
      summary: 'the bindings whose source is this exchange',
      handler: (request) => {
        const vhost = vhostOf(ctx, request);
        const exchange = exchangeOf(vhost, request.params.name!);
        return exchange.name === '' ? [...vhost.queues.keys()].map((q) => defaultBindingJson(vhost.name, q)) : [...exchange.allBindings()].map((b) => bindingJson(vhost.name, exchange.name, b));
      },
    },
    {
      method: 'GET',
      path: '/api/exchanges/:vhost/:name/bindings/destination',
      summary: 'the bindings whose destination is this exchange',
      handler: (request) => {
        const vhost = vhostOf(ctx, request);
        const target = exchangeOf(vhost, request.params.name!);
        const out: Json[] = [];
        for (const exchange of vhost.exchanges.values()) {
          for (const b of exchange.allBindings()) if (b.destination.kind === 'exchange' && b.destination.name === target.name) out.push(bindingJson(vhost.name, exchange.name, b));
        }
        return out;
      },
    },
    { method: 'GET', path: '/api/bindings', summary: 'every binding', handler: listBindings },
    { method: 'GET', path: '/api/bindings/:vhost', summary: 'the bindings of one vhost', handler: listBindings },
  ];
  for (const [letter, kind] of [['q', 'queue'], ['e', 'exchange']] as const) {
    const base = `/api/bindings/:vhost/e/:source/${letter}/:destination`;
    routes.push(
      { method: 'GET', path: base, summary: `the bindings between an exchange and a${kind === 'queue' ? ' queue' : 'n exchange'}`, handler: between(kind) },
      { method: 'POST', path: base, summary: `binds: {routing_key, arguments}; 201 with the new binding's Location`, handler: bind(kind) },
      {
        method: 'GET',
        path: `${base}/:props`,
        summary: 'one binding, named by its properties_key',
        handler: (request) => {
          const { vhost, source, binding } = findBinding(kind, request);
          return bindingJson(vhost.name, source.name, binding);
        },
      },
      {
        method: 'DELETE',
        path: `${base}/:props`,
        summary: 'unbinds one binding, named by its properties_key',
        handler: async (request) => {
          const { vhost, source, binding } = findBinding(kind, request);
          requireBindingPermissions(request, vhost, source.name, binding.destination);
          await asHttp(() => vhost.unbind(source.name, binding.destination, binding.routingKey, binding.arguments));
          return AdminReply.noContent;
        },
      },
    );
  }
  return routes;
}

function destinationOf(vhost: Vhost, kind: Destination['kind'], name: string): Destination {
  if (kind === 'queue') queueOf(vhost, name);
  else exchangeOf(vhost, name);
  return { kind, name: kind === 'exchange' ? exchangeName(name) : name };
}

const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/** A publish through the vhost's routing, as a channel would do it; answers once the queues stored it. */
async function publish(vhost: Vhost, request: AdminRequest): Promise<Json> {
  const exchange = exchangeOf(vhost, request.params.name!);
  const body = bodyObject(request.body);
  for (const key of ['routing_key', 'payload', 'payload_encoding', 'properties'] as const) {
    if (body[key] === undefined) throw AdminError.badRequest(`[{key_missing,${key}}]`);
  }
  const { routing_key: routingKey, payload, payload_encoding: encoding } = body;
  if (typeof routingKey !== 'string' || Buffer.byteLength(routingKey) > 255) throw AdminError.badRequest('routing_key must be a string of at most 255 bytes');
  if (typeof payload !== 'string') throw AdminError.badRequest('payload must be a string');
  if (encoding !== 'string' && encoding !== 'base64') throw AdminError.badRequest('payload_encoding must be string or base64');
  const bytes = encoding === 'base64' ? Buffer.from(payload, 'base64') : Buffer.from(payload, 'utf8');
  if (bytes.length > MAX_PAYLOAD_BYTES) throw AdminError.badRequest('payload is too large');
  const properties = jsonToProperties(body.properties);
  const result = await asHttp(() => {
    const message = storedMessageOf(exchange.name, routingKey, undefined, properties, encodePropertiesBytes(properties));
    return vhost.publish(exchange.name, routingKey, message, properties, bytes);
  });
  const stored = await result.stored;
  if (result.routed > 0 && !stored) throw AdminError.badRequest('the message was refused by a queue (x-overflow reject-publish)');
  return { routed: result.routed > 0 };
}

