import { AdminError, AdminReply, type AdminRequest, type AdminRoute } from '../../../core/index.ts';
import { connectionName } from '../amqp-metrics.ts';
import { AmqpError, ReplyCode } from '../amqp-error.ts';
import type { AmqpConnection } from '../connection.ts';
import { channelJson, connectionJson, consumersJson } from './formats.ts';
import { canSee, listReply, vhostOf, type ManagementContext } from './management-context.ts';

/** Connections, channels and consumers: what clients hold open right now. */
export function connectionRoutes(ctx: ManagementContext): AdminRoute[] {
  const node = ctx.identity.node;
  /** Users without administrator or monitoring see their own connections only (RabbitMQ's rule). */
  const visible = (request: AdminRequest): AmqpConnection[] =>
    [...ctx.server.openConnections].filter(
      (c) => c.vhost !== undefined && (request.principal!.tags.includes('administrator') || request.principal!.tags.includes('monitoring') || c.user === request.principal!.name),
    );
  const connectionOf = (request: AdminRequest): AmqpConnection => {
    const connection = visible(request).find((c) => connectionName(c) === request.params.name);
    if (!connection) throw AdminError.notFound();
    return connection;
  };
  const channels = (connections: AmqpConnection[]) => connections.flatMap((c) => [...c.openChannels].map(([number, channel]) => channelJson(c, number, channel, node)));
  return [
    { method: 'GET', path: '/api/connections', summary: 'open AMQP connections: peer, user, vhost, client properties, bytes in and out', handler: (request) => listReply(visible(request).map((c) => connectionJson(c, node)), request.query) },
    {
      method: 'GET',
      path: '/api/vhosts/:vhost/connections',
      summary: 'the open connections of one vhost',
      handler: (request) => {
        const vhost = vhostOf(ctx, request);
        return listReply(visible(request).filter((c) => c.vhost === vhost).map((c) => connectionJson(c, node)), request.query);
      },
    },
    { method: 'GET', path: '/api/connections/:name', summary: 'one connection (its name is "peer -> local")', handler: (request) => connectionJson(connectionOf(request), node) },
    {
      method: 'DELETE',
      path: '/api/connections/:name',
      summary: 'closes a connection (320 CONNECTION_FORCED; the X-Reason header gives the reason): administrators any, other users their own',
      handler: (request) => {
        const connection = connectionOf(request);
        if (!request.principal!.tags.includes('administrator') && connection.user !== request.principal!.name) {
          throw new AdminError(401, 'not_authorised', 'User not authorised to access object');
        }
        const reason = request.headers['x-reason'] ?? 'Closed via management plugin';
        connection.closeWith(new AmqpError(ReplyCode.connectionForced, reason.slice(0, 200)));
        return AdminReply.noContent;
      },
    },
    { method: 'GET', path: '/api/connections/:name/channels', summary: 'the channels of one connection', handler: (request) => channels([connectionOf(request)]) },
    { method: 'GET', path: '/api/channels', summary: 'open channels: prefetch, unacked, confirm mode, message counters', handler: (request) => listReply(channels(visible(request)), request.query) },
    {
      method: 'GET',
      path: '/api/vhosts/:vhost/channels',
      summary: 'the open channels of one vhost',
      handler: (request) => {
        const vhost = vhostOf(ctx, request);
        return listReply(channels(visible(request).filter((c) => c.vhost === vhost)), request.query);
      },
    },
    {
      method: 'GET',
      path: '/api/channels/:name',
      summary: 'one channel (its name is "<connection name> (<number>)")',
      handler: (request) => {
        const found = channels(visible(request)).find((c) => c.name === request.params.name);
        if (!found) throw AdminError.notFound();
        return found;
      },
    },
    {
      method: 'GET',
      path: '/api/consumers',
      summary: 'every consumer: tag, queue, channel, ack mode, prefetch',
      handler: (request) => listReply(visible(request).filter((c) => canSee(ctx, request.principal, c.vhost!.name)).flatMap((c) => consumersJson(c, node)), request.query),
    },
    {
      method: 'GET',
      path: '/api/consumers/:vhost',
      summary: 'the consumers of one vhost',
      handler: (request) => {
        const vhost = vhostOf(ctx, request);
        return listReply(visible(request).filter((c) => c.vhost === vhost).flatMap((c) => consumersJson(c, node)), request.query);
      },
    },
  ];
}
