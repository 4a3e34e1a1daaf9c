import { apiPath } from '../admin-client.ts';
import { PROTOCOL_OPTION, protocolName, protocolOf, type AdminCommand } from '../command.ts';

export const topicsDelete: AdminCommand = {
  group: 'topics',
  name: 'delete',
  summary: 'delete a topic and its messages',
  args: ['<topic>'],
  options: { protocol: PROTOCOL_OPTION },
  async run({ args, options, client }) {
    const [name] = args as [string];
    const protocol = protocolOf(options);
    await client.delete(protocol === 'kafka' ? apiPath`/api/wharf/kafka/topics/${name}` : apiPath`/api/wharf/rocketmq/topics/${name}`, `${protocolName(protocol)} topic ${name}`);
    return { json: { protocol, topic: name, deleted: true }, text: `Deleted ${protocolName(protocol)} topic ${name}.` };
  },
};
