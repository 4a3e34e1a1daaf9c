import { PROTOCOL_OPTION, protocolOf, type AdminCommand } from '../command.ts';
import { table } from '../table.ts';

interface KafkaGroup {
  group: string;
  state: string;
  protocol_type: string;
  members: number;
  lag: number;
}

interface RocketGroup {
  group: string;
  fifo: boolean;
  members: unknown[];
  lag: number;
  inflight: number;
  topics: Array<{ topic: string }>;
}

export const groupsList: AdminCommand = {
  group: 'groups',
  name: 'list',
  summary: 'list the consumer groups with their state, members and total lag',
  args: [],
  options: { protocol: PROTOCOL_OPTION },
  async run({ options, client }) {
    if (protocolOf(options) === 'kafka') {
      const groups = await client.get<KafkaGroup[]>('/api/wharf/kafka/groups', 'Kafka groups');
      const rows = groups.map((g) => [g.group, g.state, g.protocol_type || null, g.members, g.lag]);
      return { json: groups, text: groups.length === 0 ? 'no Kafka consumer groups' : table(['GROUP', 'STATE', 'PROTOCOL-TYPE', 'MEMBERS', 'LAG'], rows) };
    }
    const groups = await client.get<RocketGroup[]>('/api/wharf/rocketmq/groups', 'RocketMQ groups');
    const rows = groups.map((g) => [g.group, g.fifo ? 'FIFO' : 'concurrent', g.members.length, g.lag, g.inflight, g.topics.map((t) => t.topic).join(',')]);
    return { json: groups, text: groups.length === 0 ? 'no RocketMQ consumer groups' : table(['GROUP', 'DELIVERY', 'MEMBERS', 'LAG', 'INFLIGHT', 'TOPICS'], rows) };
  },
};
