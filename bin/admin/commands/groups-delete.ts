import { apiPath } from '../admin-client.ts';
import { PROTOCOL_OPTION, protocolName, protocolOf, type AdminCommand } from '../command.ts';

export const groupsDelete: AdminCommand = {
  group: 'groups',
  name: 'delete',
  summary: 'delete an empty Kafka group and its committed offsets (refused while it has members), or forget a RocketMQ group\'s settings',
  args: ['<group>'],
  options: { protocol: PROTOCOL_OPTION },
  async run({ args, options, client }) {
    const [name] = args as [string];
    const protocol = protocolOf(options);
    await client.delete(protocol === 'kafka' ? apiPath`/api/wharf/kafka/groups/${name}` : apiPath`/api/wharf/rocketmq/groups/${name}`, `${protocolName(protocol)} group ${name}`);
    return { json: { protocol, group: name, deleted: true }, text: `Deleted ${protocolName(protocol)} group ${name}.` };
  },
};
