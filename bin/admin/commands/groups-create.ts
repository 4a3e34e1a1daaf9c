import { apiPath } from '../admin-client.ts';
import { integerOption, PROTOCOL_OPTION, protocolOf, usage, type AdminCommand } from '../command.ts';

export const groupsCreate: AdminCommand = {
  group: 'groups',
  name: 'create',
  summary: 'define a RocketMQ consumer group\'s settings: FIFO delivery, retry attempts (an existing group takes the new ones)',
  args: ['<group>'],
  options: {
    protocol: { ...PROTOCOL_OPTION, value: 'rocketmq', description: 'rocketmq (Kafka groups are created by their consumers)' },
    fifo: { type: 'boolean', description: 'deliver a message group\'s next message only after the previous one is acked' },
    'max-attempts': { type: 'string', value: 'N', description: 'deliveries of a message before it goes to the group\'s %DLQ% topic' },
  },
  notes: ['example: wharf groups create payments-app --protocol rocketmq --fifo'],
  async run({ args, options, client }) {
    const [name] = args as [string];
    if (protocolOf(options) !== 'rocketmq') throw usage('Kafka consumer groups are created by their consumers; groups create is for RocketMQ groups (--protocol rocketmq)');
    const maxAttempts = integerOption(options, 'max-attempts', 1);
    const body = { fifo: options.fifo === true, ...(maxAttempts === undefined ? {} : { retry: { maxAttempts } }) };
    const status = await client.put(apiPath`/api/wharf/rocketmq/groups/${name}`, `RocketMQ group ${name}`, body);
    const created = status === 201;
    return { json: { protocol: 'rocketmq', group: name, ...body, created }, text: `${created ? 'Created' : 'Updated'} RocketMQ group ${name} (${body.fifo ? 'FIFO' : 'concurrent'} delivery${maxAttempts === undefined ? '' : `, ${maxAttempts} attempts`}).` };
  },
};
