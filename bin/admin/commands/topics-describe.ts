import { apiPath } from '../admin-client.ts';
import { PROTOCOL_OPTION, protocolOf, type AdminCommand } from '../command.ts';
import { bytes, fields, table } from '../table.ts';

interface KafkaTopicDetail {
  name: string;
  id: string;
  partitions: Array<{
    partition: number;
    leader: number;
    leader_epoch: number;
    replicas: number[];
    isr: number[];
    offline_replicas: number[];
    log_start_offset: number | null;
    high_watermark: number | null;
    log_end_offset: number | null;
    bytes: number | null;
    segments: number | null;
  }>;
  replication_factor: number;
  messages: number;
  bytes: number;
  created_at: number;
  configs: Array<{ name: string; value: string | null; source: 'default' | 'topic' }>;
}

interface RocketTopicDetail {
  name: string;
  message_type: string;
  queues: number;
  permission: string;
  messages: number;
  bytes: number;
  message_queues: Array<{ queue: number; min_offset: number | null; max_offset: number | null; bytes: number | null }>;
  groups: string[];
}

const list = (ids: readonly number[]): string => ids.join(',');

export const topicsDescribe: AdminCommand = {
  group: 'topics',
  name: 'describe',
  summary: 'one topic: each partition\'s leader, replicas, ISR and offsets (Kafka) or each queue\'s offsets and the groups consuming it (RocketMQ)',
  args: ['<topic>'],
  options: { protocol: PROTOCOL_OPTION },
  async run({ args, options, client }) {
    const [name] = args as [string];
    if (protocolOf(options) === 'kafka') {
      const t = await client.get<KafkaTopicDetail>(apiPath`/api/wharf/kafka/topics/${name}`, `Kafka topic ${name}`);
      const overrides = t.configs.filter((c) => c.source === 'topic').map((c) => `${c.name}=${c.value}`);
      const header = fields([
        ['Topic', t.name],
        ['TopicId', t.id],
        ['PartitionCount', t.partitions.length],
        ['ReplicationFactor', t.replication_factor],
        ['Messages', t.messages],
        ['Bytes', bytes(t.bytes)],
        ['Created', new Date(t.created_at).toISOString()],
        ['Configs', overrides.length > 0 ? overrides.join(',') : '(defaults)'],
      ]);
      const rows = t.partitions.map((p) => [p.partition, p.leader, p.leader_epoch, list(p.replicas), list(p.isr), p.log_start_offset, p.high_watermark, p.log_end_offset, bytes(p.bytes), p.segments]);
      return { json: t, text: `${header}\n\n${table(['PARTITION', 'LEADER', 'EPOCH', 'REPLICAS', 'ISR', 'LOG-START-OFFSET', 'HIGH-WATERMARK', 'LOG-END-OFFSET', 'BYTES', 'SEGMENTS'], rows)}` };
    }
    const t = await client.get<RocketTopicDetail>(apiPath`/api/wharf/rocketmq/topics/${name}`, `RocketMQ topic ${name}`);
    const header = fields([
      ['Topic', t.name],
      ['MessageType', t.message_type],
      ['Queues', t.queues],
      ['Permission', t.permission],
      ['Messages', t.messages],
      ['Bytes', bytes(t.bytes)],
      ['Groups', t.groups.length > 0 ? t.groups.join(',') : '(none)'],
    ]);
    const rows = t.message_queues.map((q) => [q.queue, q.min_offset, q.max_offset, bytes(q.bytes)]);
    return { json: t, text: `${header}\n\n${table(['QUEUE', 'MIN-OFFSET', 'MAX-OFFSET', 'BYTES'], rows)}` };
  },
};
