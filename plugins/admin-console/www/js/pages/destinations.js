import { served } from '../api.js';
import { badge, bytes, count, h, link, rate, table } from '../dom.js';
import { destinationKey } from '../metrics.js';

export const title = 'Topics & queues';

/**
 * One row per destination across protocols. Kafka and RocketMQ topics share storage, so a topic both
 * serve is one row with both badges; AMQP queues are rows of their own, keyed by vhost.
 */
export async function render({ rates }) {
  const [kafka, rocket, queues] = await Promise.all([served('/api/wharf/kafka/topics'), served('/api/wharf/rocketmq/topics'), served('/api/queues'), rates.sample()]);
  const topics = new Map();
  for (const t of kafka) topics.set(t.name, { kind: 'topic', name: t.name, protocols: ['kafka'], type: '', partitions: t.partitions, messages: t.messages, unacked: null, bytes: t.bytes, consumers: null });
  for (const t of rocket) {
    const row = topics.get(t.name) ?? { kind: 'topic', name: t.name, protocols: [], partitions: t.queues, messages: t.messages, unacked: null, bytes: t.bytes, consumers: null };
    row.protocols.push('rocketmq');
    row.type = t.message_type;
    topics.set(t.name, row);
  }
  const rows = [...topics.values()];
  for (const q of queues) {
    rows.push({ kind: 'queue', name: q.name, vhost: q.vhost, protocols: ['amqp'], type: `${q.type}${q.durable ? '' : ' transient'}${q.exclusive ? ' exclusive' : ''}`, partitions: null, messages: q.messages_ready, unacked: q.messages_unacknowledged, bytes: q.message_bytes_ready ?? null, consumers: q.consumers });
  }
  rows.sort((a, b) => a.name.localeCompare(b.name) || (a.vhost ?? '').localeCompare(b.vhost ?? ''));
  const ratesOf = (row) => rates.ofDestination(destinationKey(row.kind === 'queue' ? { vhost: row.vhost, queue: row.name } : { topic: row.name }));
  const browse = (row) => `#/browse?${new URLSearchParams(row.kind === 'queue' ? { queue: row.name, vhost: row.vhost } : { topic: row.name })}`;
  return h(
    'div',
    { class: 'page destinations' },
    h('h1', null, 'Topics & queues'),
    h('p', { class: 'muted' }, `${count(topics.size)} topics · ${count(queues.length)} queues. Topics hold messages until retention removes them; queue depth counts ready and unacknowledged messages.`),
    table(
      [
        { label: 'Name', cell: (r) => link(browse(r), r.name) },
        { label: 'Protocol', cell: (r) => r.protocols.flatMap((p, i) => (i ? [' ', badge(p)] : [badge(p)])) },
        { label: 'Vhost', cell: (r) => r.vhost ?? '' },
        { label: 'Type', cell: (r) => r.type },
        { label: 'Partitions', cell: (r) => count(r.partitions), num: true },
        { label: 'Messages', cell: (r) => count(r.messages), num: true },
        { label: 'Unacked', cell: (r) => count(r.unacked), num: true },
        { label: 'Size', cell: (r) => bytes(r.bytes), num: true },
        { label: 'Consumers', cell: (r) => count(r.consumers), num: true },
        { label: 'In', cell: (r) => rate(ratesOf(r)?.messagesIn), num: true },
        { label: 'Out', cell: (r) => rate(ratesOf(r)?.messagesOut), num: true },
      ],
      rows,
      { empty: 'No topics or queues yet: they appear when clients create them.' },
    ),
  );
}
