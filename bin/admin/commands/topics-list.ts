import { PROTOCOL_OPTION, protocolName, protocolOf, type AdminCommand } from '../command.ts';
import { bytes, table } from '../table.ts';

interface KafkaTopic {
  name: string;
  partitions: number;
  replication_factor: number;
  messages: number;
  bytes: number;
  configs: Record<string, string>;
}

interface RocketTopic {
  name: string;
  message_type: string;
  queues: number;
  permission: string;
  messages: number;
  bytes: number;
}

export const topicsList: AdminCommand = {
  group: 'topics',
  name: 'list',
  summary: 'list the topics: Kafka (partitions, replication, messages, size, config overrides) or RocketMQ (message type, queues, permission)',
  args: [],
  options: { protocol: PROTOCOL_OPTION },
  async run({ options, client }) {
    const protocol = protocolOf(options);
    if (protocol === 'kafka') {
      const topics = await client.get<KafkaTopic[]>('/api/wharf/kafka/topics', 'Kafka topics');
      const rows = topics.map((t) => [t.name, t.partitions, t.replication_factor, t.messages, bytes(t.bytes), Object.entries(t.configs).map(([k, v]) => `${k}=${v}`).join(',')]);
      return { json: topics, text: topics.length === 0 ? 'no Kafka topics' : table(['TOPIC', 'PARTITIONS', 'REPLICATION-FACTOR', 'MESSAGES', 'BYTES', 'CONFIGS'], rows) };
    }
    const topics = await client.get<RocketTopic[]>('/api/wharf/rocketmq/topics', `${protocolName(protocol)} topics`);
    const rows = topics.map((t) => [t.name, t.message_type, t.queues, t.permission, t.messages, bytes(t.bytes)]);
    return { json: topics, text: topics.length === 0 ? 'no RocketMQ topics' : table(['TOPIC', 'TYPE', 'QUEUES', 'PERMISSION', 'MESSAGES', 'BYTES'], rows) };
  },
};
