import { AdminError, AdminReply, BrokerError, type AdminRequest, type AdminRoute } from '../../../core/index.ts';
import { AmqpError } from '../amqp-error.ts';
import { decodeProperties } from '../codec/index.ts';
import type { AmqpQueue, Delivery } from '../model/queue.ts';
import { decodeMessageKey } from '../model/stored-message.ts';
import type { Vhost } from '../model/vhost.ts';
import { bindingJson, defaultBindingJson, queueJson } from './formats.ts';
import { bodyObject, jsonBoolean, jsonToTable, propertiesToJson, type Json } from './json-values.ts';
import { listReply, requirePermission, vhostOf, vhostsOf, type ManagementContext } from './management-context.ts';

/** The connection id management actions act as: no AMQP connection owns what they declare. */
export const HTTP_CONNECTION = 0;

/** AMQP refusals in HTTP: 404 stays 404, access refused is RabbitMQ's 401, the rest 400, each with the AMQP reply text. */
export async function asHttp<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AmqpError) {
      const detail = err.replyText.slice(err.replyText.indexOf(' - ') + 3);
      if (err.code === 404) throw new AdminError(404, 'not_found', detail);
      if (err.code === 403) throw new AdminError(401, 'not_authorised', detail);
      throw AdminError.badRequest(detail);
    }
    if (BrokerError.is(err, 'STORAGE_FULL')) throw AdminError.badRequest(err.message);
    throw err;
  }
}

export function queueOf(vhost: Vhost, name: string): AmqpQueue {
  const queue = vhost.queues.get(name);
  if (!queue) throw AdminError.notFound();
  return queue;
}

const ACK_MODES = ['ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true', 'reject_requeue_false'] as const;
const MAX_GET = 10_000;

export function queueRoutes(ctx: ManagementContext): AdminRoute[] {
  const node = ctx.identity.node;
  const list = (request: AdminRequest) => listReply(vhostsOf(ctx, request).flatMap((v) => [...v.queues.values()].map((q) => queueJson(v.name, q, node, ctx.rates))), request.query);
  return [
    { method: 'GET', path: '/api/queues', summary: 'every queue: depth (ready/unacked), consumers, counters', handler: list },
    { method: 'GET', path: '/api/queues/:vhost', summary: 'the queues of one vhost', handler: list },
    {
      method: 'GET',
      path: '/api/queues/:vhost/:name',
      summary: 'one queue, with its consumers',
      handler: (request) => {
        const vhost = vhostOf(ctx, request);
        const queue = queueOf(vhost, request.params.name!);
        const consumer_details: Json[] = [];
        for (const connection of ctx.server.openConnections) {
          for (const [number, channel] of connection.openChannels) {
            for (const c of channel.consumerList) {
              if (c.queue !== queue) continue;
              consumer_details.push({ consumer_tag: c.tag, ack_required: !c.noAck, exclusive: c.exclusive, prefetch_count: c.prefetch, channel_details: { number, user: connection.user }, queue: { name: queue.name, vhost: vhost.name }, arguments: {}, active: true, activity_status: 'up' });
            }
          }
        }
        return { ...queueJson(vhost.name, queue, node, ctx.rates), consumer_details, incoming: [], deliveries: [] };
      },
    },
    {
      method: 'PUT',
      path: '/api/queues/:vhost/:name',
      summary: 'declares a queue: {durable, auto_delete, arguments}; 201 when created, 204 when it existed (equivalent)',
      handler: async (request) => {
        const vhost = vhostOf(ctx, request);
        const name = request.params.name!;
        if (name === '') throw AdminError.badRequest('a queue name is required');
        const body = bodyObject(request.body);
        requirePermission(ctx, request, vhost, 'configure', 'queue', name);
        const existed = vhost.queues.has(name);
        await asHttp(() =>
          vhost.declareQueue(
            { name, passive: false, durable: jsonBoolean(body, 'durable', true), exclusive: false, autoDelete: jsonBoolean(body, 'auto_delete', false), arguments: jsonToTable(body.arguments) },
            HTTP_CONNECTION,
          ),
        );
        return existed ? AdminReply.noContent : AdminReply.created;
      },
    },
    {
      method: 'DELETE',
      path: '/api/queues/:vhost/:name',
      summary: 'deletes a queue; ?if-empty=true and ?if-unused=true as queue.delete',
      handler: async (request) => {
        const vhost = vhostOf(ctx, request);
        const queue = queueOf(vhost, request.params.name!);
        requirePermission(ctx, request, vhost, 'configure', 'queue', queue.name);
        await asHttp(() => vhost.deleteQueue(queue.name, request.query['if-unused'] === 'true', request.query['if-empty'] === 'true', queue.spec.exclusiveOwner ?? HTTP_CONNECTION));
        return AdminReply.noContent;
      },
    },
    {
      method: 'DELETE',
      path: '/api/queues/:vhost/:name/contents',
      summary: 'purges a queue\'s ready messages',
      handler: async (request) => {
        const vhost = vhostOf(ctx, request);
        const queue = queueOf(vhost, request.params.name!);
        requirePermission(ctx, request, vhost, 'read', 'queue', queue.name);
        await asHttp(() => vhost.purgeQueue(queue));
        return AdminReply.noContent;
      },
    },
    {
      method: 'GET',
      path: '/api/queues/:vhost/:name/bindings',
      summary: 'the bindings whose destination is this queue (the default exchange\'s included)',
      handler: (request) => {
        const vhost = vhostOf(ctx, request);
        const queue = queueOf(vhost, request.params.name!);
        const bindings = [defaultBindingJson(vhost.name, queue.name)];
        for (const exchange of vhost.exchanges.values()) {
          for (const b of exchange.allBindings()) if (b.destination.kind === 'queue' && b.destination.name === queue.name) bindings.push(bindingJson(vhost.name, exchange.name, b));
        }
        return bindings;
      },
    },
    {
      method: 'POST',
      path: '/api/queues/:vhost/:name/get',
      summary: 'takes up to {count} messages (ackmode ack_requeue_true puts them back, redelivered); for a look that never consumes use /api/wharf/amqp/queues/:vhost/:name/messages',
      handler: (request) => {
        const vhost = vhostOf(ctx, request);
        requirePermission(ctx, request, vhost, 'read', 'queue', queueOf(vhost, request.params.name!).name);
        return getMessages(vhost, request);
      },
    },
  ];
}

/** RabbitMQ's "Get messages": basic.get `count` times, then requeue or settle them all, per `ackmode`. */
async function getMessages(vhost: Vhost, request: AdminRequest): Promise<Json[]> {
  const queue = queueOf(vhost, request.params.name!);
  const body = bodyObject(request.body);
  if (body.count === undefined) throw AdminError.badRequest('[{key_missing,count}]');
  if (body.ackmode === undefined) throw AdminError.badRequest('[{key_missing,ackmode}]');
  if (body.encoding === undefined) throw AdminError.badRequest('[{key_missing,encoding}]');
  const count = typeof body.count === 'string' ? Number(body.count) : body.count;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || count > MAX_GET) throw AdminError.badRequest(`count must be an integer in [0, ${MAX_GET}]`);
  const ackmode = body.ackmode as (typeof ACK_MODES)[number];
  if (!ACK_MODES.includes(ackmode)) throw AdminError.badRequest(`ackmode must be one of ${ACK_MODES.join(', ')}`);
  if (body.encoding !== 'auto' && body.encoding !== 'base64') throw AdminError.badRequest('encoding must be auto or base64');
  const truncate = body.truncate === undefined ? Infinity : Number(body.truncate);
  if (!(truncate >= 0)) throw AdminError.badRequest('truncate must be a non-negative integer');
  if (queue.failed) throw AdminError.badRequest(`queue '${queue.name}' in vhost '${vhost.name}' has crashed`);
  const taken: Delivery[] = [];
  const out: Json[] = [];
  try {
    while (taken.length < count) {
      const delivery = await queue.getWhenRead(false);
      if (!delivery) break;
      taken.push(delivery);
      queue.stats.delivered++;
      queue.stats.got++;
      queue.stats.deliveredBytes += delivery.message.value?.length ?? 0;
      if (queue.deliveryCount(delivery.message) > 0) queue.stats.redelivered++;
      out.push(messageJson(delivery, queue.messageCount, body.encoding === 'base64', truncate));
    }
  } finally {
    if (ackmode === 'ack_requeue_true' || ackmode === 'reject_requeue_true') queue.requeueAll(taken);
    else if (ackmode === 'ack_requeue_false') {
      for (const delivery of taken) queue.ack(delivery);
      queue.stats.acked += taken.length;
    } else for (const delivery of taken) queue.reject(delivery);
  }
  return out;
}

function messageJson(delivery: Delivery, messageCount: number, base64: boolean, truncate: number): Json {
  const stored = decodeMessageKey(delivery.message.key);
  const body = delivery.message.value ?? Buffer.alloc(0);
  const shown = truncate < body.length ? body.subarray(0, truncate) : body;
  const text = base64 ? undefined : utf8(shown);
  return {
    payload_bytes: body.length,
    redelivered: delivery.queue.deliveryCount(delivery.message) > 0,
    exchange: stored.exchange,
    routing_key: stored.routingKey,
    message_count: messageCount,
    properties: propertiesToJson(decodeProperties(stored.properties, 0, stored.properties.length)),
    payload: text ?? shown.toString('base64'),
    payload_encoding: text === undefined ? 'base64' : 'string',
  };
}

/** The text, if the bytes are valid UTF-8 (RabbitMQ's `auto` encoding). */
export function utf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
