import { served, api } from '../api.js';
import { badge, byteRate, bytes, card, count, duration, h, rate, section, sparkline, table } from '../dom.js';

export const title = 'Overview';

const PROTOCOLS = ['kafka', 'amqp', 'rocketmq'];

export async function render({ rates }) {
  const [broker, rabbit, kafkaGroups, rocketGroups] = await Promise.all([
    api('/api/wharf/overview'),
    served('/api/overview', '/api/overview', undefined),
    served('/api/wharf/kafka/groups'),
    served('/api/wharf/rocketmq/groups'),
    rates.sample(),
  ]);
  const listening = PROTOCOLS.filter((p) => broker.listeners.some((l) => l.protocol === p));
  const storage = broker.storage;
  const connections = [...rates.connections.values()].reduce((a, b) => a + b, 0);
  const lag = kafkaGroups.reduce((sum, g) => sum + g.lag, 0) + rocketGroups.reduce((sum, g) => sum + g.lag, 0);

  return h(
    'div',
    { class: 'page overview' },
    h('h1', null, 'Overview'),
    h('p', { class: 'muted' }, `${broker.product_name} ${broker.product_version} · node ${broker.node_id} · ${broker.state} · up ${duration(broker.uptime_ms)} · Node.js ${broker.nodejs_version}`, broker.storage.read_only ? h('strong', { class: 'alarm' }, ' · read-only: disk space below the limit') : null),
    section(
      'Message rates',
      h(
        'div',
        { class: 'cards' },
        listening.map((protocol) => {
          const r = rates.ofProtocol(protocol);
          const history = rates.history.get(protocol) ?? { in: [], out: [] };
          return h(
            'div',
            { class: 'card rates', 'data-protocol': protocol },
            h('div', { class: 'label' }, badge(protocol)),
            h('div', { class: 'value' }, h('span', { class: 'in' }, `in ${rate(r?.messagesIn, ' msg/s')}`), ' ', h('span', { class: 'out' }, `out ${rate(r?.messagesOut, ' msg/s')}`)),
            h('div', { class: 'detail' }, `${byteRate(r?.bytesIn)} in · ${byteRate(r?.bytesOut)} out · ${count(rates.connections.get(protocol) ?? 0)} connections`),
            sparkline([
              { values: history.in, class: 'in' },
              { values: history.out, class: 'out' },
            ]),
          );
        }),
      ),
    ),
    section(
      'Totals',
      h(
        'div',
        { class: 'cards' },
        card('Connections', count(connections), listening.map((p) => `${p} ${count(rates.connections.get(p) ?? 0)}`).join(' · ')),
        card('Topics', count(broker.topics)),
        rabbit ? card('Queues', count(rabbit.object_totals.queues), `${count(rabbit.object_totals.consumers)} consumers · ${count(rabbit.object_totals.channels)} channels`) : null,
        rabbit ? card('Queued messages', count(rabbit.queue_totals.messages), `${count(rabbit.queue_totals.messages_ready)} ready · ${count(rabbit.queue_totals.messages_unacknowledged)} unacked`) : null,
        card('Consumer groups', count(kafkaGroups.length + rocketGroups.length), `lag ${count(lag)} messages`),
      ),
    ),
    section(
      'Storage',
      h(
        'div',
        { class: 'cards' },
        card('Stored', bytes(storage.bytes), `${count(storage.logs)} logs · ${count(storage.segments)} segments`),
        card('Disk free', bytes(storage.disk_free_bytes), `limit ${bytes(storage.disk_free_limit)}`),
        card('Engine', storage.description, storage.durable ? 'durable' : 'not durable'),
      ),
    ),
    section(
      'Listeners',
      table(
        [
          { label: 'Protocol', cell: (l) => badge(l.protocol) },
          { label: 'Address', cell: (l) => l.ip_address },
          { label: 'Port', cell: (l) => String(l.port), num: true },
        ],
        broker.listeners,
      ),
    ),
    broker.cluster.clustered
      ? section(
          'Cluster',
          h('p', { class: 'muted' }, `${broker.cluster.description} · controller ${broker.cluster.controller_id}`),
          table(
            [
              { label: 'Node', cell: (m) => String(m.node_id) },
              { label: 'Endpoints', cell: (m) => Object.entries(m.endpoints).map(([p, e]) => `${p} ${e.host}:${e.port}`).join(', ') },
            ],
            broker.cluster.members,
          ),
        )
      : null,
  );
}
