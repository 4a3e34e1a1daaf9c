import { AdminError, AdminReply, WHARF_VERSION, type AdminRoute } from '../../../core/index.ts';
import { channelTotals } from '../amqp-metrics.ts';
import { SERVER_VERSION } from '../amqp-context.ts';
import { encodePropertiesBytes } from '../codec/index.ts';
import { EXCHANGE_TYPES } from '../model/exchange.ts';
import type { Vhost } from '../model/vhost.ts';
import { messageStats, queueMessageStats, queueRateKey } from './formats.ts';
import { vhostOf, vhostsOf, type ManagementContext } from './management-context.ts';
import { HTTP_CONNECTION } from './queue-routes.ts';
import type { AmqpServer } from '../amqp-server.ts';

const EXCHANGE_DESCRIPTIONS: Record<string, string> = {
  direct: 'AMQP direct exchange, as per the AMQP specification',
  fanout: 'AMQP fanout exchange, as per the AMQP specification',
  headers: 'AMQP headers exchange, as per the AMQP specification',
  topic: 'AMQP topic exchange, as per the AMQP specification',
};

/**
 * The totals the management API's rates follow: message counters, each vhost's queue totals (keyed
 * `vhost\0total`), and each queue's depth and counters (`queueRateKey`).
 */
export function overviewTotals(server: AmqpServer): Map<string, number> {
  const totals = new Map<string, number>(Object.entries(messageStats(channelTotals(server))));
  for (const vhost of server.vhosts.values()) {
    for (const [name, value] of Object.entries(queueTotals([vhost]))) totals.set(`${vhost.name}\0${name}`, value);
    for (const queue of vhost.queues.values()) {
      const ready = queue.messageCount;
      const unacked = queue.unackedCount;
      const counters = { ...queueMessageStats(queue.stats), messages: ready + unacked, messages_ready: ready, messages_unacknowledged: unacked };
      for (const name in counters) totals.set(queueRateKey(vhost.name, queue.name, name), counters[name as keyof typeof counters]);
    }
  }
  return totals;
}

function queueTotals(vhosts: Iterable<Vhost>): { messages: number; messages_ready: number; messages_unacknowledged: number } {
  let ready = 0;
  let unacked = 0;
  for (const vhost of vhosts) {
    for (const queue of vhost.queues.values()) {
      ready += queue.messageCount;
      unacked += queue.unackedCount;
    }
  }
  return { messages: ready + unacked, messages_ready: ready, messages_unacknowledged: unacked };
}

/** RabbitMQ's health checks answer 503 when failing. */
const failing = (body: Record<string, unknown>): AdminReply => new AdminReply(503, { status: 'failed', ...body });

export function overviewRoutes(ctx: ManagementContext): AdminRoute[] {
  const { server, identity } = ctx;
  const alarms = () => [
    ...(server.memoryAlarmOn ? [{ node: identity.node, resource: 'memory' }] : []),
    ...(server.diskAlarmOn ? [{ node: identity.node, resource: 'disk' }] : []),
  ];
  const alarmCheck = () => {
    const active = alarms();
    return active.length === 0 ? { status: 'ok' } : failing({ reason: 'There are alarms in effect in the cluster', alarms: active });
  };
  return [
    {
      method: 'GET',
      path: '/api/overview',
      summary: 'RabbitMQ\'s overview: versions, listeners, object totals, queue totals, message counters',
      handler: (request) => {
        const vhosts = vhostsOf(ctx, request);
        let queues = 0;
        let exchanges = 0;
        let consumers = 0;
        for (const vhost of vhosts) {
          exchanges += vhost.exchanges.size;
          queues += vhost.queues.size;
          for (const queue of vhost.queues.values()) consumers += queue.consumerCount;
        }
        let channels = 0;
        for (const connection of server.openConnections) channels += connection.openChannels.size;
        const counters = server.counters;
        return {
          management_version: SERVER_VERSION,
          rates_mode: 'basic',
          exchange_types: EXCHANGE_TYPES.map((name) => ({ name, description: EXCHANGE_DESCRIPTIONS[name], enabled: true })),
          product_version: WHARF_VERSION,
          product_name: 'Wharf',
          rabbitmq_version: SERVER_VERSION,
          cluster_name: identity.cluster,
          erlang_version: `Node.js ${process.version}`,
          erlang_full_version: `Node.js ${process.version} (Wharf ${WHARF_VERSION})`,
          disable_stats: false,
          enable_queue_totals: true,
          message_stats: ctx.rates.withDetails(messageStats(channelTotals(server))),
          churn_rates: {
            connection_created: counters.connectionsOpened,
            connection_closed: counters.connectionsOpened - server.openConnections.size,
            channel_created: counters.channelsOpened,
            channel_closed: counters.channelsOpened - channels,
            queue_declared: counters.queuesDeclared,
            queue_created: counters.queuesCreated,
            queue_deleted: counters.queuesDeleted,
          },
          queue_totals: ctx.rates.withDetails(queueTotals(vhosts), (name) => vhosts.map((v) => `${v.name}\0${name}`)),
          object_totals: { channels, connections: server.openConnections.size, consumers, exchanges, queues },
          statistics_db_event_queue: 0,
          node: identity.node,
          listeners: ctx.listeners.list().map((l) => ({ node: identity.node, protocol: l.protocol, ip_address: l.host, port: l.port })),
          contexts: ctx.listeners
            .list()
            .filter((l) => l.protocol === 'http')
            .slice(0, 1)
            .map((l) => ({ node: identity.node, description: 'Wharf admin HTTP API (RabbitMQ Management compatible)', path: '/', ip: l.host, port: String(l.port) })),
        };
      },
    },
    { method: 'GET', path: '/api/health/checks/alarms', summary: '200 without resource alarms (memory, disk), else 503 listing them', handler: alarmCheck },
    { method: 'GET', path: '/api/health/checks/local-alarms', summary: 'the same as alarms, for this node', handler: alarmCheck },
    { method: 'GET', path: '/api/health/checks/virtual-hosts', summary: '200 when every vhost is running', handler: () => ({ status: 'ok' }) },
    { method: 'GET', path: '/api/health/checks/node-is-quorum-critical', summary: '200: Wharf has no quorum queues', handler: () => ({ status: 'ok' }) },
    {
      method: 'GET',
      path: '/api/health/checks/port-listener/:port',
      summary: '200 when a listener is bound to the port, else 503',
      handler: ({ params }) => {
        const port = Number(params.port);
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw AdminError.badRequest(`${params.port} is not a port`);
        const ports = [...new Set(ctx.listeners.list().map((l) => l.port))];
        return ports.includes(port) ? { status: 'ok', port } : failing({ reason: 'No active listener', missing: port, ports });
      },
    },
    {
      method: 'GET',
      path: '/api/health/checks/protocol-listener/:protocol',
      summary: '200 when a listener speaks the protocol (amqp, http, kafka, rocketmq), else 503',
      handler: ({ params }) => {
        const protocols = [...new Set(ctx.listeners.list().map((l) => l.protocol))];
        const wanted = params.protocol!.toLowerCase();
        return protocols.includes(wanted) ? { status: 'ok', protocol: wanted } : failing({ reason: 'No active listener', missing: wanted, protocols });
      },
    },
    {
      method: 'GET',
      path: '/api/aliveness-test/:vhost',
      summary: 'declares the queue aliveness-test, publishes a message to it and gets it back: 200, or 503',
      handler: async (request) => {
        const vhost = vhostOf(ctx, request);
        try {
          const queue = await vhost.declareQueue({ name: 'aliveness-test', passive: false, durable: false, exclusive: false, autoDelete: false, arguments: new Map() }, HTTP_CONNECTION);
          const body = Buffer.from('test_message');
          const stored = await vhost.publish('', queue.name, { exchange: '', routingKey: queue.name, properties: encodePropertiesBytes({}), persistent: false, priority: 0, expiresAt: -1 }, {}, body).stored;
          if (!stored) return failing({ reason: 'aliveness-test queue refused the message' });
          const got = await queue.getWhenRead(true);
          return got ? { status: 'ok' } : failing({ reason: 'aliveness-test queue is empty' });
        } catch (err) {
          return failing({ reason: (err as Error).message });
        }
      },
    },
  ];
}
