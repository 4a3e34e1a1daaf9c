import fs from 'node:fs';
import { createRequire } from 'node:module';
import { BlockScratch, LabelCache, LabelSet, SeriesBlock, WHARF, type DiskMonitor, type Emit, type FamilySpec, type Metrics } from '../../core/index.ts';
import { SERVER_VERSION } from './amqp-context.ts';
import type { AmqpServer } from './amqp-server.ts';
import { ChannelStats } from './amqp-stats.ts';
import type { AmqpQueue } from './model/queue.ts';
import { QUEUE_FIELDS, QueueField as F, QueueSnapshot } from './queue-snapshot.ts';

/** How this node names itself to RabbitMQ tools: `rabbitmq_node`, the management API's `node`. */
export interface AmqpIdentity {
  node: string;
  cluster: string;
  /** RabbitMQ's internal_cluster_id: stable across restarts. */
  clusterId: string;
}

const family = (type: FamilySpec['type'], name: string, help: string, labelNames: readonly string[] = []): FamilySpec => ({ name, help, type, labelNames });
const PROTOCOL = ['protocol'] as const;
const PROTOCOL_TYPE = ['protocol', 'queue_type'] as const;

/** The families of RabbitMQ 3.10's rabbitmq_prometheus (per-object mode) that its Grafana dashboards read. */
export const RABBITMQ = {
  identity: family('untyped', 'rabbitmq_identity_info', 'RabbitMQ node & cluster identity info', ['rabbitmq_node', 'rabbitmq_cluster', 'rabbitmq_cluster_permanent_id']),
  build: family('untyped', 'rabbitmq_build_info', 'RabbitMQ & Erlang/OTP version info', ['rabbitmq_version', 'prometheus_plugin_version', 'prometheus_client_version', 'erlang_version']),
  connections: family('gauge', 'rabbitmq_connections', 'Connections currently open'),
  channels: family('gauge', 'rabbitmq_channels', 'Channels currently open'),
  consumers: family('gauge', 'rabbitmq_consumers', 'Consumers currently connected'),
  queues: family('gauge', 'rabbitmq_queues', 'Queues available'),
  connectionsOpened: family('counter', 'rabbitmq_connections_opened_total', 'Total number of connections opened'),
  connectionsClosed: family('counter', 'rabbitmq_connections_closed_total', 'Total number of connections closed or terminated'),
  channelsOpened: family('counter', 'rabbitmq_channels_opened_total', 'Total number of channels opened'),
  channelsClosed: family('counter', 'rabbitmq_channels_closed_total', 'Total number of channels closed'),
  queuesDeclared: family('counter', 'rabbitmq_queues_declared_total', 'Total number of queues declared'),
  queuesCreated: family('counter', 'rabbitmq_queues_created_total', 'Total number of queues created'),
  queuesDeleted: family('counter', 'rabbitmq_queues_deleted_total', 'Total number of queues deleted'),
  channelConsumers: family('gauge', 'rabbitmq_channel_consumers', 'Consumers on a channel', ['channel']),
  queueReady: family('gauge', 'rabbitmq_queue_messages_ready', 'Messages ready to be delivered to consumers', ['vhost', 'queue']),
  queueUnacked: family('gauge', 'rabbitmq_queue_messages_unacked', 'Messages delivered to consumers but not yet acknowledged', ['vhost', 'queue']),
  queueMessages: family('gauge', 'rabbitmq_queue_messages', 'Sum of ready and unacknowledged messages - total queue depth', ['vhost', 'queue']),
  queueConsumers: family('gauge', 'rabbitmq_queue_consumers', 'Consumers on a queue', ['vhost', 'queue']),
  received: family('counter', 'rabbitmq_global_messages_received_total', 'Total number of messages received from publishers', PROTOCOL),
  receivedConfirm: family('counter', 'rabbitmq_global_messages_received_confirm_total', 'Total number of messages received from publishers expecting confirmations', PROTOCOL),
  routed: family('counter', 'rabbitmq_global_messages_routed_total', 'Total number of messages routed to queues or streams', PROTOCOL),
  unroutableDropped: family('counter', 'rabbitmq_global_messages_unroutable_dropped_total', 'Total number of messages published as non-mandatory into an exchange and dropped as unroutable', PROTOCOL),
  unroutableReturned: family('counter', 'rabbitmq_global_messages_unroutable_returned_total', 'Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable', PROTOCOL),
  confirmed: family('counter', 'rabbitmq_global_messages_confirmed_total', 'Total number of messages confirmed to publishers', PROTOCOL),
  delivered: family('counter', 'rabbitmq_global_messages_delivered_total', 'Total number of messages delivered to consumers', PROTOCOL_TYPE),
  deliveredConsumeAutoAck: family('counter', 'rabbitmq_global_messages_delivered_consume_auto_ack_total', 'Total number of messages delivered to consumers using basic.consume with automatic acknowledgment', PROTOCOL_TYPE),
  deliveredConsumeManualAck: family('counter', 'rabbitmq_global_messages_delivered_consume_manual_ack_total', 'Total number of messages delivered to consumers using basic.consume with manual acknowledgment', PROTOCOL_TYPE),
  deliveredGetAutoAck: family('counter', 'rabbitmq_global_messages_delivered_get_auto_ack_total', 'Total number of messages delivered to consumers using basic.get with automatic acknowledgment', PROTOCOL_TYPE),
  deliveredGetManualAck: family('counter', 'rabbitmq_global_messages_delivered_get_manual_ack_total', 'Total number of messages delivered to consumers using basic.get with manual acknowledgment', PROTOCOL_TYPE),
  getEmpty: family('counter', 'rabbitmq_global_messages_get_empty_total', 'Total number of times basic.get operations fetched no message', PROTOCOL_TYPE),
  redelivered: family('counter', 'rabbitmq_global_messages_redelivered_total', 'Total number of messages redelivered to consumers', PROTOCOL_TYPE),
  acknowledged: family('counter', 'rabbitmq_global_messages_acknowledged_total', 'Total number of messages acknowledged by consumers', PROTOCOL_TYPE),
  publishers: family('gauge', 'rabbitmq_global_publishers', 'Current number of publishers', PROTOCOL),
  globalConsumers: family('gauge', 'rabbitmq_global_consumers', 'Current number of consumers', PROTOCOL),
  residentMemory: family('gauge', 'rabbitmq_process_resident_memory_bytes', 'Memory used in bytes'),
  memoryLimit: family('gauge', 'rabbitmq_resident_memory_limit_bytes', 'Memory high watermark in bytes'),
  diskAvailable: family('gauge', 'rabbitmq_disk_space_available_bytes', 'Disk space available in bytes'),
  diskLimit: family('gauge', 'rabbitmq_disk_space_available_limit_bytes', 'Free disk space low watermark in bytes'),
  openFds: family('gauge', 'rabbitmq_process_open_fds', 'Open file descriptors'),
  maxFds: family('gauge', 'rabbitmq_process_max_fds', 'Open file descriptors limit'),
  openSockets: family('gauge', 'rabbitmq_process_open_tcp_sockets', 'Open TCP sockets'),
  maxSockets: family('gauge', 'rabbitmq_process_max_tcp_sockets', 'Open TCP sockets limit'),
  memoryAlarm: family('gauge', 'rabbitmq_alarms_memory_used_watermark', 'is 1 if VM memory watermark alarm is in effect'),
  diskAlarm: family('gauge', 'rabbitmq_alarms_free_disk_space_watermark', 'is 1 if free disk space watermark alarm is in effect'),
  fdAlarm: family('gauge', 'rabbitmq_alarms_file_descriptor_limit', 'is 1 if file descriptor limit alarm is in effect'),
} as const;

const PROMETHEUS_CLIENT_VERSION = (createRequire(import.meta.url)('prom-client/package.json') as { version: string }).version;
const AMQP = new LabelSet({ protocol: 'amqp' });
const AMQP091 = new LabelSet({ protocol: 'amqp091' });
const CLASSIC = new LabelSet({ protocol: 'amqp091', queue_type: 'rabbit_classic_queue' });

/**
 * The AMQP plugin's families: `wharf_*` per queue, and RabbitMQ's own names with RabbitMQ's label sets,
 * so the official RabbitMQ-Overview dashboard works unchanged. Everything is read at scrape time from
 * counters the connections, channels and queues keep. Returns the remover.
 */
export function contributeAmqpMetrics(metrics: Metrics, server: AmqpServer, identity: AmqpIdentity, disk: DiskMonitor): () => void {
  const snapshot = new QueueSnapshot(server);
  /**
   * A family with a series per queue, in the snapshot's blocks of QUEUE_BLOCK queues of a vhost: the lines
   * of a block whose queues are unchanged are sent as kept, so a busy queue re-renders its block only.
   */
  const perQueue = (spec: FamilySpec, value: (row: Float64Array, at: number) => number, labels: LabelCache<AmqpQueue, string>) => {
    const scratch = new BlockScratch();
    const blocks: SeriesBlock[] = [];
    return metrics.family(spec).contribute((emit) => {
      snapshot.refresh(emit.scrape);
      const queueBlocks = snapshot.blocks;
      for (let b = 0; b < queueBlocks.length; b++) {
        const { queues, rows, changes, vhost, count } = queueBlocks[b]!;
        const block = (blocks[b] ??= new SeriesBlock());
        if (emit.cached(block, changes)) continue;
        scratch.ensure(count);
        for (let i = 0; i < count; i++) {
          scratch.values[i] = value(rows, i * QUEUE_FIELDS);
          scratch.labels[i] = labels.of(queues[i]!, vhost);
        }
        emit.block(block, scratch.values, scratch.labels, count);
      }
      blocks.length = queueBlocks.length;
    });
  };
  const wharfLabels = new LabelCache((queue: AmqpQueue, vhost: string) => ({ protocol: 'amqp', vhost, queue: queue.name }));
  const rabbitLabels = new LabelCache((queue: AmqpQueue, vhost: string) => ({ vhost, queue: queue.name }));
  const totals = (emit: Emit, read: (stats: ChannelStats) => number, labels: LabelSet) => emit(read(channelTotals(server)), labels);
  const counters = server.counters;
  const one = (spec: FamilySpec, value: () => number, labels?: LabelSet) => metrics.family(spec).contribute((emit) => emit(value(), labels));
  const removers = [
    perQueue(WHARF.messagesIn, (r, at) => r[at + F.published]!, wharfLabels),
    perQueue(WHARF.bytesIn, (r, at) => r[at + F.publishedBytes]!, wharfLabels),
    perQueue(WHARF.messagesOut, (r, at) => r[at + F.delivered]!, wharfLabels),
    perQueue(WHARF.bytesOut, (r, at) => r[at + F.deliveredBytes]!, wharfLabels),
    perQueue(WHARF.redeliveries, (r, at) => r[at + F.redelivered]!, wharfLabels),
    perQueue(WHARF.acks, (r, at) => r[at + F.acked]!, wharfLabels),
    perQueue(WHARF.queueReady, (r, at) => r[at + F.ready]!, wharfLabels),
    perQueue(WHARF.queueUnacked, (r, at) => r[at + F.unacked]!, wharfLabels),
    perQueue(WHARF.consumers, (r, at) => r[at + F.consumers]!, wharfLabels),
    metrics.family(WHARF.confirms).contribute((emit) => totals(emit, (s) => s.confirm, AMQP)),
    one(WHARF.connections, () => server.openConnections.size, AMQP),
    one(WHARF.connectionsOpened, () => counters.connectionsOpened, AMQP),
    one(WHARF.channels, () => channelCount(server), AMQP),

    one(RABBITMQ.identity, () => 1, new LabelSet({ rabbitmq_node: identity.node, rabbitmq_cluster: identity.cluster, rabbitmq_cluster_permanent_id: identity.clusterId })),
    one(RABBITMQ.build, () => 1, new LabelSet({ rabbitmq_version: SERVER_VERSION, prometheus_plugin_version: SERVER_VERSION, prometheus_client_version: PROMETHEUS_CLIENT_VERSION, erlang_version: `Node.js ${process.version}` })),
    one(RABBITMQ.connections, () => server.openConnections.size),
    one(RABBITMQ.channels, () => channelCount(server)),
    one(RABBITMQ.consumers, () => consumerCount(server)),
    one(RABBITMQ.queues, () => queueCount(server)),
    one(RABBITMQ.connectionsOpened, () => counters.connectionsOpened),
    one(RABBITMQ.connectionsClosed, () => counters.connectionsOpened - server.openConnections.size),
    one(RABBITMQ.channelsOpened, () => counters.channelsOpened),
    one(RABBITMQ.channelsClosed, () => counters.channelsOpened - channelCount(server)),
    one(RABBITMQ.queuesDeclared, () => counters.queuesDeclared),
    one(RABBITMQ.queuesCreated, () => counters.queuesCreated),
    one(RABBITMQ.queuesDeleted, () => counters.queuesDeleted),
    metrics.family(RABBITMQ.channelConsumers).contribute((emit) => {
      for (const connection of server.openConnections) {
        for (const [number, channel] of connection.openChannels) emit(count(channel.consumerList), { channel: `${connectionName(connection)} (${number})` });
      }
    }),
    perQueue(RABBITMQ.queueReady, (r, at) => r[at + F.ready]!, rabbitLabels),
    perQueue(RABBITMQ.queueUnacked, (r, at) => r[at + F.unacked]!, rabbitLabels),
    perQueue(RABBITMQ.queueMessages, (r, at) => r[at + F.ready]! + r[at + F.unacked]!, rabbitLabels),
    perQueue(RABBITMQ.queueConsumers, (r, at) => r[at + F.consumers]!, rabbitLabels),
    metrics.family(RABBITMQ.received).contribute((emit) => totals(emit, (s) => s.publish, AMQP091)),
    metrics.family(RABBITMQ.receivedConfirm).contribute((emit) => totals(emit, (s) => s.publishConfirm, AMQP091)),
    metrics.family(RABBITMQ.routed).contribute((emit) => totals(emit, (s) => s.routed, AMQP091)),
    metrics.family(RABBITMQ.unroutableDropped).contribute((emit) => totals(emit, (s) => s.dropUnroutable, AMQP091)),
    metrics.family(RABBITMQ.unroutableReturned).contribute((emit) => totals(emit, (s) => s.returnUnroutable, AMQP091)),
    metrics.family(RABBITMQ.confirmed).contribute((emit) => totals(emit, (s) => s.confirm, AMQP091)),
    metrics.family(RABBITMQ.delivered).contribute((emit) => totals(emit, (s) => s.deliver + s.deliverNoAck + s.get + s.getNoAck, CLASSIC)),
    metrics.family(RABBITMQ.deliveredConsumeAutoAck).contribute((emit) => totals(emit, (s) => s.deliverNoAck, CLASSIC)),
    metrics.family(RABBITMQ.deliveredConsumeManualAck).contribute((emit) => totals(emit, (s) => s.deliver, CLASSIC)),
    metrics.family(RABBITMQ.deliveredGetAutoAck).contribute((emit) => totals(emit, (s) => s.getNoAck, CLASSIC)),
    metrics.family(RABBITMQ.deliveredGetManualAck).contribute((emit) => totals(emit, (s) => s.get, CLASSIC)),
    metrics.family(RABBITMQ.getEmpty).contribute((emit) => totals(emit, (s) => s.getEmpty, CLASSIC)),
    metrics.family(RABBITMQ.redelivered).contribute((emit) => totals(emit, (s) => s.redeliver, CLASSIC)),
    metrics.family(RABBITMQ.acknowledged).contribute((emit) => totals(emit, (s) => s.ack, CLASSIC)),
    one(RABBITMQ.publishers, () => [...server.openConnections].filter((c) => c.published).length, AMQP091),
    one(RABBITMQ.globalConsumers, () => consumerCount(server), AMQP091),
    one(RABBITMQ.residentMemory, () => process.memoryUsage.rss()),
    one(RABBITMQ.memoryLimit, () => server.memoryLimit),
    metrics.family(RABBITMQ.diskAvailable).contribute((emit) => {
      if (disk.freeBytes !== undefined) emit(disk.freeBytes);
    }),
    one(RABBITMQ.diskLimit, () => disk.limitBytes),
    metrics.family(RABBITMQ.openFds).contribute((emit) => {
      const open = openFileDescriptors();
      if (open !== undefined) emit(open);
    }),
    metrics.family(RABBITMQ.maxFds).contribute((emit) => {
      const max = maxFileDescriptors();
      if (max !== undefined) emit(max);
    }),
    one(RABBITMQ.openSockets, () => server.openConnections.size),
    one(RABBITMQ.maxSockets, () => server.settings.maxConnections),
    one(RABBITMQ.memoryAlarm, () => (server.memoryAlarmOn ? 1 : 0)),
    one(RABBITMQ.diskAlarm, () => (server.diskAlarmOn ? 1 : 0)),
    one(RABBITMQ.fdAlarm, () => 0),
  ];
  return () => {
    for (const remove of removers) remove();
  };
}

/** Counters of every channel that ever was: the closed ones' totals plus the open ones'. */
export function channelTotals(server: AmqpServer): ChannelStats {
  const total = new ChannelStats();
  total.add(server.counters.retired);
  for (const connection of server.openConnections) for (const channel of connection.openChannels.values()) total.add(channel.stats);
  return total;
}

/** RabbitMQ's connection name: `peer -> local`. */
export function connectionName(connection: { socket: { remoteAddress?: string; remotePort?: number; localAddress?: string; localPort?: number } }): string {
  const { remoteAddress, remotePort, localAddress, localPort } = connection.socket;
  return `${address(remoteAddress)}:${remotePort} -> ${address(localAddress)}:${localPort}`;
}

const address = (a: string | undefined): string => (a?.startsWith('::ffff:') ? a.slice(7) : (a ?? 'unknown'));

function channelCount(server: AmqpServer): number {
  let n = 0;
  for (const connection of server.openConnections) n += connection.openChannels.size;
  return n;
}

function consumerCount(server: AmqpServer): number {
  let n = 0;
  for (const vhost of server.vhosts.values()) for (const queue of vhost.queues.values()) n += queue.consumerCount;
  return n;
}

function queueCount(server: AmqpServer): number {
  let n = 0;
  for (const vhost of server.vhosts.values()) n += vhost.queues.size;
  return n;
}

function count(items: Iterable<unknown>): number {
  let n = 0;
  for (const _ of items) n++;
  return n;
}

function openFileDescriptors(): number | undefined {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

let maxFds: number | undefined | null = null;
function maxFileDescriptors(): number | undefined {
  if (maxFds === null) {
    try {
      const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
      const soft = line?.split(/\s{2,}/)[1];
      maxFds = soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
    } catch {
      maxFds = undefined;
    }
  }
  return maxFds;
}
