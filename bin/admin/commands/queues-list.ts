import { apiPath } from '../admin-client.ts';
import { stringOption, type AdminCommand } from '../command.ts';
import { table } from '../table.ts';

interface Queue {
  vhost: string;
  name: string;
  durable: boolean;
  auto_delete: boolean;
  exclusive: boolean;
  state: string;
  messages: number;
  messages_ready: number;
  messages_unacknowledged: number;
  consumers: number;
}

const features = (q: Queue): string => [q.durable ? 'D' : '', q.auto_delete ? 'AD' : '', q.exclusive ? 'Excl' : ''].filter((f) => f).join(' ');

export const queuesList: AdminCommand = {
  group: 'queues',
  name: 'list',
  summary: 'list the AMQP queues with their depth (ready, unacked), consumers and state; --json gives RabbitMQ\'s management API fields',
  args: [],
  options: { vhost: { type: 'string', value: 'VHOST', description: 'only this virtual host\'s queues (default: every vhost the user may see)' } },
  async run({ options, client }) {
    const vhost = stringOption(options, 'vhost');
    const queues = await client.get<Queue[]>(vhost === undefined ? '/api/queues' : apiPath`/api/queues/${vhost}`, vhost === undefined ? 'queues' : `vhost ${vhost}`);
    const rows = queues.map((q) => [q.vhost, q.name, features(q), q.state, q.messages_ready, q.messages_unacknowledged, q.messages, q.consumers]);
    return { json: queues, text: queues.length === 0 ? 'no queues' : table(['VHOST', 'QUEUE', 'FEATURES', 'STATE', 'READY', 'UNACKED', 'MESSAGES', 'CONSUMERS'], rows) };
  },
};
