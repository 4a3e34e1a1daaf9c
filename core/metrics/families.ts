import type { HistogramSpec } from './latency-histogram.ts';
import type { FamilySpec } from './scrape-family.ts';

const counter = (name: string, help: string, labelNames: readonly string[]): FamilySpec => ({ name, help, type: 'counter', labelNames });
const gauge = (name: string, help: string, labelNames: readonly string[] = []): FamilySpec => ({ name, help, type: 'gauge', labelNames });

/**
 * The `wharf_*` families every plugin shares: one name, one meaning, label names from one set
 * (`protocol`, `vhost`, `queue`, `topic`, `partition`, `group`). A protocol fills the labels that
 * name its objects: Kafka and RocketMQ `topic` (and `partition`, RocketMQ's message queue), AMQP
 * `vhost` and `queue`.
 */
export const WHARF = {
  messagesIn: counter('wharf_messages_in_total', 'Messages received from producers and stored', ['protocol', 'vhost', 'queue', 'topic']),
  bytesIn: counter('wharf_bytes_in_total', 'Message bytes received from producers and stored (batch or body bytes)', ['protocol', 'vhost', 'queue', 'topic']),
  messagesOut: counter('wharf_messages_out_total', 'Messages delivered to consumers (redeliveries included)', ['protocol', 'vhost', 'queue', 'topic', 'group']),
  bytesOut: counter('wharf_bytes_out_total', 'Message bytes delivered to consumers', ['protocol', 'vhost', 'queue', 'topic', 'group']),
  redeliveries: counter('wharf_redeliveries_total', 'Deliveries of a message that had been delivered before', ['protocol', 'vhost', 'queue', 'topic', 'group']),
  acks: counter('wharf_acks_total', 'Deliveries acknowledged by consumers', ['protocol', 'vhost', 'queue', 'topic', 'group']),
  confirms: counter('wharf_confirms_total', 'Publishes confirmed to publishers (AMQP publisher confirms)', ['protocol']),
  connections: gauge('wharf_connections', 'Open client connections (RocketMQ: live clients)', ['protocol']),
  connectionsOpened: counter('wharf_connections_opened_total', 'Client connections accepted', ['protocol']),
  channels: gauge('wharf_channels', 'Open AMQP channels', ['protocol']),
  consumers: gauge('wharf_consumers', 'Consumers attached to a queue', ['protocol', 'vhost', 'queue']),
  queueReady: gauge('wharf_queue_messages_ready', 'Messages ready for delivery', ['protocol', 'vhost', 'queue']),
  queueUnacked: gauge('wharf_queue_messages_unacked', 'Messages delivered and not yet acknowledged', ['protocol', 'vhost', 'queue']),
  groupLag: gauge('wharf_consumer_group_lag', 'Messages between a group\'s position and the high watermark, per partition (RocketMQ: message queue)', ['protocol', 'group', 'topic', 'partition']),
  groupInflight: gauge('wharf_consumer_group_inflight', 'Messages a group holds invisible (RocketMQ pop consumption)', ['protocol', 'group', 'topic', 'partition']),
  groupMembers: gauge('wharf_consumer_group_members', 'Members of a consumer group', ['protocol', 'group']),
  highWatermark: gauge('wharf_partition_high_watermark', 'High watermark (committed end offset) of a topic partition', ['topic', 'partition']),
  logStartOffset: gauge('wharf_partition_log_start_offset', 'First offset still stored in a topic partition', ['topic', 'partition']),
  storageBytes: gauge('wharf_storage_bytes', 'Bytes stored in a log\'s segments', ['topic', 'partition']),
  storageSegments: gauge('wharf_storage_segments', 'Segments of a log', ['topic', 'partition']),
  diskFree: gauge('wharf_disk_free_bytes', 'Free bytes on the storage disk'),
  diskFreeLimit: gauge('wharf_disk_free_limit_bytes', 'Free space below which the broker is read-only (--disk-free-limit)'),
  readOnly: gauge('wharf_read_only', '1 while the broker refuses writes (disk below its free-space limit or full)'),
  build: { name: 'wharf_build_info', help: 'Wharf version and node', type: 'gauge', labelNames: ['version', 'node_id', 'nodejs_version'] } as FamilySpec,
  clusterMembers: gauge('wharf_cluster_members', 'Live brokers of the cluster (1 on a single node)'),
  underReplicated: gauge('wharf_under_replicated_partitions', 'Partitions led here whose ISR is smaller than their replica set'),
} as const;

export const WHARF_HISTOGRAMS = {
  requestDuration: { name: 'wharf_request_duration_seconds', help: 'Time from a request\'s arrival to its answer, per protocol API', labelNames: ['protocol', 'api'] },
  fsyncDuration: {
    name: 'wharf_fsync_duration_seconds',
    help: 'Duration of one group-commit sync of a log (fdatasync of its dirty segment files)',
    labelNames: [],
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  },
} as const satisfies Record<string, HistogramSpec>;
