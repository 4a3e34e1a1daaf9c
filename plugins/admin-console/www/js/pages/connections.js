import { api, served } from '../api.js';
import { badge, bytes, count, duration, h, section, table } from '../dom.js';

export const title = 'Connections';

export async function render({ rates, refresh }) {
  const [all, amqp, kafkaGroups, rocketGroups] = await Promise.all([
    served('/api/wharf/connections'),
    served('/api/connections'),
    served('/api/wharf/kafka/groups'),
    served('/api/wharf/rocketmq/groups'),
    rates.sample(),
  ]);
  const kafkaMembers = (await Promise.all(kafkaGroups.slice(0, 50).map((g) => api(`/api/wharf/kafka/groups/${encodeURIComponent(g.group)}`).catch(() => undefined))))
    .filter(Boolean)
    .flatMap((d) => d.members.map((m) => ({ protocol: 'kafka', group: d.group, client: m.client_id, detail: `${m.client_host} · ${m.member_id}` })));
  const rocketMembers = rocketGroups.flatMap((g) => g.members.map((m) => ({ protocol: 'rocketmq', group: g.group, client: m.client_id, detail: [m.type, m.language].filter(Boolean).join(' · ') })));
  const now = Date.now();
  const close = async (name) => {
    if (!confirm(`Close ${name}?`)) return;
    await api(`/api/connections/${encodeURIComponent(name)}`, { method: 'DELETE' });
    refresh();
  };
  return h(
    'div',
    { class: 'page connections' },
    h('h1', null, 'Connections'),
    h('div', { class: 'cards' }, [...rates.connections].map(([protocol, n]) => h('div', { class: 'card' }, h('div', { class: 'label' }, badge(protocol)), h('div', { class: 'value' }, count(n)), h('div', { class: 'detail' }, 'open connections')))),
    section(
      'Client connections',
      h('p', { class: 'muted' }, 'Every protocol: Kafka, AMQP, RabbitMQ Stream, RocketMQ.'),
      table(
        [
          { label: 'Protocol', cell: (c) => badge(c.protocol) },
          { label: 'Peer', cell: (c) => c.name },
          { label: 'User', cell: (c) => c.user ?? '' },
          { label: 'Client id', cell: (c) => c.client_id ?? '' },
          { label: 'Software', cell: (c) => (c.client_software ? `${c.client_software.name} ${c.client_software.version}`.trim() : '') },
          { label: 'TLS', cell: (c) => (c.tls ? 'yes' : 'no') },
          { label: 'Age', cell: (c) => duration(now - c.connected_at), num: true },
          { label: 'Received', cell: (c) => bytes(c.bytes_in), num: true },
          { label: 'Sent', cell: (c) => bytes(c.bytes_out), num: true },
        ],
        [...all].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.connected_at - b.connected_at),
        { empty: 'No client connections.', rowClass: (c) => `connection ${c.protocol}` },
      ),
    ),
    section(
      h('span', null, badge('amqp'), ' connections'),
      table(
        [
          { label: 'Name', cell: (c) => c.name },
          { label: 'User', cell: (c) => c.user },
          { label: 'Vhost', cell: (c) => c.vhost },
          { label: 'Client', cell: (c) => [c.client_properties?.product, c.client_properties?.version, c.client_properties?.connection_name].filter(Boolean).join(' ') },
          { label: 'TLS', cell: (c) => (c.ssl ? c.ssl_protocol ?? 'yes' : 'no') },
          { label: 'Channels', cell: (c) => count(c.channels), num: true },
          { label: 'Age', cell: (c) => duration(now - c.connected_at), num: true },
          { label: 'Received', cell: (c) => bytes(c.recv_oct), num: true },
          { label: 'Sent', cell: (c) => bytes(c.send_oct), num: true },
          { label: '', cell: (c) => h('button', { type: 'button', class: 'small', onclick: () => close(c.name).catch((err) => alert(err.message)) }, 'Close') },
        ],
        amqp,
        { empty: 'No AMQP connections.' },
      ),
    ),
    section(
      'Group members',
      h('p', { class: 'muted' }, 'Kafka and RocketMQ clients that joined a consumer group.'),
      table(
        [
          { label: 'Protocol', cell: (m) => badge(m.protocol) },
          { label: 'Group', cell: (m) => m.group },
          { label: 'Client', cell: (m) => m.client },
          { label: 'Details', cell: (m) => m.detail },
        ],
        [...kafkaMembers, ...rocketMembers],
        { empty: 'No group members.' },
      ),
    ),
  );
}
