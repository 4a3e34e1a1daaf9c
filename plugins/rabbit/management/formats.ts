import { connectionName } from '../amqp-metrics.ts';
import type { ChannelStats, QueueStats } from '../amqp-stats.ts';
import type { AmqpChannel } from '../channel.ts';
import { fieldText } from '../codec/index.ts';
import type { AmqpConnection } from '../connection.ts';
import type { Binding, Exchange } from '../model/exchange.ts';
import type { AmqpQueue } from '../model/queue.ts';
import { propertiesKey } from './binding-key.ts';
import { tableToJson, type Json } from './json-values.ts';

export { propertiesKey } from './binding-key.ts';
import type { MessageRates } from './message-rates.ts';

/** The JSON shapes of RabbitMQ 3.10's management API, field for field where Wharf has the fact. */

/** A queue's depth and message counters, with their `*_details` rates when `rates` samples them (`overviewTotals`). */
export function queueJson(vhost: string, queue: AmqpQueue, node: string, rates?: MessageRates): Record<string, Json> {
  const ready = queue.messageCount;
  const unacked = queue.unackedCount;
  const consumers = queue.consumerCount;
  const depth = { messages: ready + unacked, messages_ready: ready, messages_unacknowledged: unacked };
  const withRates = (values: Record<string, number>) => rates?.withDetails(values, (name) => [queueRateKey(vhost, queue.name, name)]) ?? values;
  return {
    name: queue.name,
    vhost,
    type: queue.args.type,
    durable: queue.spec.durable,
    auto_delete: queue.spec.autoDelete,
    exclusive: queue.spec.exclusiveOwner !== null,
    arguments: tableToJson(queue.spec.arguments),
    node,
    state: queue.failed ? 'crashed' : 'running',
    consumers,
    consumer_capacity: consumers > 0 ? 1 : 0,
    consumer_utilisation: consumers > 0 ? 1 : 0,
    exclusive_consumer_tag: null,
    single_active_consumer_tag: null,
    policy: null,
    operator_policy: null,
    effective_policy_definition: {},
    head_message_timestamp: null,
    ...withRates(depth),
    message_bytes_ready: queue.readyByteCount,
    ...(queue.args.type === 'quorum' ? { leader: node, members: [node], online: [node] } : {}),
    message_stats: withRates(queueMessageStats(queue.stats)),
  };
}

/** A queue's `message_stats` counters, as RabbitMQ 3.10 names them. */
export function queueMessageStats(s: QueueStats): Record<string, number> {
  return {
    ack: s.acked,
    deliver: s.delivered - s.deliveredNoAck - s.got - s.gotNoAck,
    deliver_get: s.delivered,
    deliver_no_ack: s.deliveredNoAck,
    get: s.got,
    get_empty: s.getEmpty,
    get_no_ack: s.gotNoAck,
    publish: s.published,
    redeliver: s.redelivered,
  };
}

/** The key of a queue's total in the sampled totals. */
export const queueRateKey = (vhost: string, queue: string, name: string): string => `queue\0${vhost}\0${queue}\0${name}`;

export function exchangeJson(vhost: string, exchange: Exchange): Record<string, Json> {
  const { spec } = exchange;
  return { name: spec.name, vhost, type: spec.type, durable: spec.durable, auto_delete: spec.autoDelete, internal: spec.internal, arguments: tableToJson(spec.arguments) };
}

export function bindingJson(vhost: string, source: string, b: Binding): Record<string, Json> {
  return {
    source,
    vhost,
    destination: b.destination.name,
    destination_type: b.destination.kind,
    routing_key: b.routingKey,
    arguments: tableToJson(b.arguments),
    properties_key: propertiesKey(b.routingKey, b.arguments),
  };
}

/** The default exchange's implicit binding of a queue, as RabbitMQ lists it. */
export function defaultBindingJson(vhost: string, queue: string): Record<string, Json> {
  return { source: '', vhost, destination: queue, destination_type: 'queue', routing_key: queue, arguments: {}, properties_key: propertiesKey(queue, new Map()) };
}

export function connectionJson(connection: AmqpConnection, node: string): Record<string, Json> {
  const { socket } = connection;
  const clientProperties = tableToJson(connection.clientProperties);
  const name = fieldText(connection.clientProperties.get('connection_name'));
  return {
    name: connectionName(connection),
    node,
    type: 'network',
    protocol: 'AMQP 0-9-1',
    state: connection.stateName,
    user: connection.user,
    vhost: connection.vhost?.name ?? '',
    auth_mechanism: connection.authMechanism,
    host: plain(socket.localAddress),
    port: socket.localPort ?? 0,
    peer_host: plain(socket.remoteAddress),
    peer_port: socket.remotePort ?? 0,
    ssl: false,
    ssl_protocol: null,
    channels: connection.openChannels.size,
    channel_max: connection.channelLimit,
    frame_max: connection.frameMax,
    timeout: connection.heartbeat,
    client_properties: clientProperties,
    ...(name === undefined ? {} : { user_provided_name: name }),
    connected_at: connection.connectedAt,
    recv_oct: socket.bytesRead,
    send_oct: socket.bytesWritten,
  };
}

export function channelJson(connection: AmqpConnection, number: number, channel: AmqpChannel, node: string): Record<string, Json> {
  const connection_name = connectionName(connection);
  return {
    name: `${connection_name} (${number})`,
    number,
    node,
    user: connection.user,
    vhost: channel.vhostName,
    connection_details: { name: connection_name, peer_host: plain(connection.socket.remoteAddress), peer_port: connection.socket.remotePort ?? 0 },
    state: 'running',
    consumer_count: [...channel.consumerList].length,
    prefetch_count: channel.prefetchCount,
    global_prefetch_count: channel.globalPrefetchCount,
    messages_unacknowledged: channel.unackedCount,
    messages_uncommitted: channel.uncommittedCount,
    acks_uncommitted: 0,
    confirm: channel.confirmMode,
    transactional: channel.isTransactional,
    message_stats: messageStats(channel.stats),
  };
}

export function consumersJson(connection: AmqpConnection, node: string): Array<Record<string, Json>> {
  const out: Array<Record<string, Json>> = [];
  const connection_name = connectionName(connection);
  for (const [number, channel] of connection.openChannels) {
    for (const consumer of channel.consumerList) {
      out.push({
        consumer_tag: consumer.tag,
        queue: { name: consumer.queue.name, vhost: channel.vhostName },
        channel_details: {
          name: `${connection_name} (${number})`,
          number,
          connection_name,
          peer_host: plain(connection.socket.remoteAddress),
          peer_port: connection.socket.remotePort ?? 0,
          user: connection.user,
          node,
        },
        ack_required: !consumer.noAck,
        exclusive: consumer.exclusive,
        prefetch_count: consumer.prefetch,
        arguments: {},
        active: true,
        activity_status: 'up',
      });
    }
  }
  return out;
}

/** A channel's (or the whole broker's) `message_stats`. */
export function messageStats(s: ChannelStats): Record<string, number> {
  return {
    publish: s.publish,
    confirm: s.confirm,
    return_unroutable: s.returnUnroutable,
    drop_unroutable: s.dropUnroutable,
    deliver: s.deliver,
    deliver_no_ack: s.deliverNoAck,
    get: s.get,
    get_no_ack: s.getNoAck,
    get_empty: s.getEmpty,
    redeliver: s.redeliver,
    ack: s.ack,
    deliver_get: s.deliver + s.deliverNoAck + s.get + s.getNoAck,
  };
}

const plain = (address: string | undefined): string => (address?.startsWith('::ffff:') ? address.slice(7) : (address ?? ''));
