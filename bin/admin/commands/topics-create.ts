import { apiPath, CliFailure } from '../admin-client.ts';
import { integerOption, onlyFor, PROTOCOL_OPTION, protocolOf, stringOption, usage, type AdminCommand, type OptionValues } from '../command.ts';

const MESSAGE_TYPES = ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION'];
const PERMISSIONS = ['READ_WRITE', 'WRITE', 'READ'];
const KAFKA_ONLY = ['partitions', 'replication-factor', 'config', 'if-not-exists'];
const ROCKETMQ_ONLY = ['type', 'queues', 'permission'];

/** `--config retention.ms=86400000` (repeatable) as the API's configs object. */
function kafkaConfigs(options: OptionValues): Record<string, string> {
  const configs: Record<string, string> = {};
  for (const entry of (options.config as string[] | undefined) ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw usage(`--config needs name=value, not ${JSON.stringify(entry)}`);
    configs[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return configs;
}

function oneOf(options: OptionValues, name: string, allowed: readonly string[]): string | undefined {
  const value = stringOption(options, name);
  if (value !== undefined && !allowed.includes(value.toUpperCase())) throw usage(`--${name} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
  return value?.toUpperCase();
}

export const topicsCreate: AdminCommand = {
  group: 'topics',
  name: 'create',
  summary: 'create a Kafka topic, or a RocketMQ topic of a message type (an existing RocketMQ topic takes the new type, permission and queues)',
  args: ['<topic>'],
  options: {
    protocol: PROTOCOL_OPTION,
    partitions: { type: 'string', value: 'N', description: 'Kafka: partitions (default: the broker\'s --topics-partitions)' },
    'replication-factor': { type: 'string', value: 'N', description: 'Kafka: replicas of each partition (in a cluster)' },
    config: { type: 'string', value: 'NAME=VALUE', multiple: true, description: 'Kafka: a topic config, e.g. retention.ms=86400000 (repeatable)' },
    'if-not-exists': { type: 'boolean', description: 'Kafka: succeed if the topic exists already' },
    type: { type: 'string', value: MESSAGE_TYPES.join('|'), description: 'RocketMQ: the message type the topic accepts (default NORMAL)' },
    queues: { type: 'string', value: 'N', description: 'RocketMQ: message queues (default: the broker\'s --rocket-queues)' },
    permission: { type: 'string', value: PERMISSIONS.join('|'), description: 'RocketMQ: what clients may do (default READ_WRITE)' },
  },
  notes: ['examples: wharf topics create orders --partitions 6 --config retention.ms=86400000', '          wharf topics create payments --protocol rocketmq --type FIFO --queues 4'],
  async run({ args, options, client }) {
    const [name] = args as [string];
    const protocol = protocolOf(options);
    if (protocol === 'kafka') {
      onlyFor(options, 'rocketmq', ROCKETMQ_ONLY);
      const body = { partitions: integerOption(options, 'partitions', 1), replication_factor: integerOption(options, 'replication-factor', 1), configs: kafkaConfigs(options) };
      try {
        await client.put(apiPath`/api/wharf/kafka/topics/${name}`, `Kafka topic ${name}`, body);
      } catch (err) {
        if (err instanceof CliFailure && err.status === 409 && options['if-not-exists'] === true) return { json: { protocol, topic: name, created: false }, text: `Kafka topic ${name} exists already.` };
        throw err;
      }
      return { json: { protocol, topic: name, created: true }, text: `Created Kafka topic ${name}.` };
    }
    onlyFor(options, 'kafka', KAFKA_ONLY);
    const type = oneOf(options, 'type', MESSAGE_TYPES) ?? 'NORMAL';
    const body = { message_type: type, queues: integerOption(options, 'queues', 1, 1024), permission: oneOf(options, 'permission', PERMISSIONS) };
    const status = await client.put(apiPath`/api/wharf/rocketmq/topics/${name}`, `RocketMQ topic ${name}`, body);
    const created = status === 201;
    return { json: { protocol, topic: name, message_type: type, created }, text: `${created ? 'Created' : 'Updated'} RocketMQ topic ${name} (${type}).` };
  },
};
