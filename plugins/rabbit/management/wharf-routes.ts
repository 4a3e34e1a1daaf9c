import { browseLog, queryInteger, type AdminRoute } from '../../../core/index.ts';
import { decodeProperties } from '../codec/index.ts';
import { decodeMessageKey } from '../model/stored-message.ts';
import { propertiesToJson, type Json } from './json-values.ts';
import { vhostOf, type ManagementContext } from './management-context.ts';
import { queueOf, utf8 } from './queue-routes.ts';

const MAX_LIMIT = 1000;

/** Wharf's own AMQP views: a queue's messages read straight from its log, never taken. */
export function wharfAmqpRoutes(ctx: ManagementContext): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/wharf/amqp/queues/:vhost/:name/messages',
      summary: 'browses a queue without consuming: ready and unacked messages from its log (?limit=, ?level= priority level, ?offset= to page)',
      handler: async (request) => {
        const queue = queueOf(vhostOf(ctx, request), request.params.name!);
        const limit = queryInteger(request.query.limit, 'limit', 20, MAX_LIMIT);
        const levels = queue.levelQueues;
        const level = queryInteger(request.query.level, 'level', 0, levels.length - 1);
        const source = levels[level]!;
        const from = queryInteger(request.query.offset, 'offset', source.ackFloor);
        const { records, next } = await browseLog(source.log, { from, limit, accept: (offset) => source.isPending(offset) });
        const messages: Json[] = records.map((record) => {
          const stored = decodeMessageKey(record.key);
          const body = record.value ?? Buffer.alloc(0);
          const text = utf8(body);
          return {
            offset: record.offset,
            timestamp: record.timestamp,
            state: source.inFlightMessage(record.offset) ? 'unacked' : 'ready',
            redelivered: source.attemptsOf(record.offset) > 0,
            exchange: stored.exchange,
            routing_key: stored.routingKey,
            properties: propertiesToJson(decodeProperties(stored.properties, 0, stored.properties.length)),
            payload_bytes: body.length,
            payload: text ?? body.toString('base64'),
            payload_encoding: text === undefined ? 'base64' : 'string',
          };
        });
        return { queue: queue.name, level, levels: levels.length, messages, next_offset: next };
      },
    },
  ];
}
