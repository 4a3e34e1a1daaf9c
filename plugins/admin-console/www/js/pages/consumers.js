import { api, served } from '../api.js';
import { badge, count, h, section, table, time } from '../dom.js';

export const title = 'Consumers';

/** Group details are fetched for this many groups per refresh; the rest show their totals only. */
const DETAILED = 50;

export async function render() {
  const [kafkaGroups, rocketGroups, amqpConsumers] = await Promise.all([served('/api/wharf/kafka/groups'), served('/api/wharf/rocketmq/groups'), served('/api/consumers')]);
  const kafkaDetails = await Promise.all(kafkaGroups.slice(0, DETAILED).map((g) => api(`/api/wharf/kafka/groups/${encodeURIComponent(g.group)}`).catch(() => undefined)));
  return h(
    'div',
    { class: 'page consumers' },
    h('h1', null, 'Consumers'),
    section(
      h('span', null, badge('kafka'), ' consumer groups'),
      kafkaGroups.length === 0 ? h('p', { class: 'muted empty' }, 'No Kafka consumer groups.') : null,
      kafkaGroups.map((g, i) => kafkaGroup(g, kafkaDetails[i])),
    ),
    section(
      h('span', null, badge('rocketmq'), ' consumer groups'),
      rocketGroups.length === 0 ? h('p', { class: 'muted empty' }, 'No RocketMQ consumer groups.') : null,
      rocketGroups.map(rocketGroup),
    ),
    section(
      h('span', null, badge('amqp'), ' consumers'),
      table(
        [
          { label: 'Queue', cell: (c) => c.queue.name },
          { label: 'Vhost', cell: (c) => c.queue.vhost },
          { label: 'Consumer tag', cell: (c) => c.consumer_tag },
          { label: 'Channel', cell: (c) => c.channel_details.name },
          { label: 'User', cell: (c) => c.channel_details.user },
          { label: 'Ack', cell: (c) => (c.ack_required ? 'manual' : 'auto') },
          { label: 'Prefetch', cell: (c) => count(c.prefetch_count), num: true },
          { label: 'Exclusive', cell: (c) => (c.exclusive ? 'yes' : '') },
        ],
        amqpConsumers,
        { empty: 'No AMQP consumers.' },
      ),
    ),
  );
}

function kafkaGroup(summary, detail) {
  const owners = new Map();
  for (const m of detail?.members ?? []) for (const a of m.assignment ?? []) for (const p of a.partitions) owners.set(`${a.topic}/${p}`, `${m.client_id} ${m.client_host}`);
  return h(
    'article',
    { class: 'group', 'data-group': summary.group },
    h('h3', null, summary.group, ' ', h('span', { class: 'muted' }, `${summary.state} · ${count(summary.members)} members · ${detail?.protocol ?? summary.protocol_type ?? ''} · lag ${count(summary.lag)}`)),
    detail
      ? table(
          [
            { label: 'Topic', cell: (o) => o.topic },
            { label: 'Partition', cell: (o) => String(o.partition), num: true },
            { label: 'Committed', cell: (o) => count(o.committed_offset), num: true },
            { label: 'End offset', cell: (o) => count(o.high_watermark), num: true },
            { label: 'Lag', cell: (o) => count(o.lag), num: true },
            { label: 'Owner', cell: (o) => owners.get(`${o.topic}/${o.partition}`) ?? '' },
            { label: 'Committed at', cell: (o) => time(o.commit_timestamp) },
          ],
          [...detail.offsets].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
          { empty: 'No committed offsets.', rowClass: (o) => (o.lag > 0 ? 'lagging' : undefined) },
        )
      : null,
  );
}

function rocketGroup(g) {
  const rows = g.topics.flatMap((t) => t.queues.map((q) => ({ topic: t.topic, ...q })));
  return h(
    'article',
    { class: 'group', 'data-group': g.group },
    h('h3', null, g.group, ' ', h('span', { class: 'muted' }, `${g.fifo ? 'FIFO · ' : ''}${count(g.members.length)} members · lag ${count(g.lag)} · ${count(g.inflight)} in flight`)),
    table(
      [
        { label: 'Topic', cell: (q) => q.topic },
        { label: 'Queue', cell: (q) => String(q.queue), num: true },
        { label: 'Acked up to', cell: (q) => count(q.ack_floor), num: true },
        { label: 'End offset', cell: (q) => count(q.max_offset), num: true },
        { label: 'Lag', cell: (q) => count(q.lag), num: true },
        { label: 'In flight', cell: (q) => count(q.inflight), num: true },
      ],
      rows,
      { empty: 'Nothing consumed yet.', rowClass: (q) => (q.lag > 0 ? 'lagging' : undefined) },
    ),
  );
}
