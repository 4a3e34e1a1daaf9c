import { api, served } from '../api.js';
import { badge, bytes, count, errorBox, h, link, time } from '../dom.js';

export const title = 'Messages';
export const live = false;

/** Characters of a body shown; the rest is summarised. */
const PREVIEW = 4096;

/**
 * A message browser that never consumes: it reads the log behind a topic or queue through the
 * /api/wharf views. Everything it shows is in the hash (#/browse?topic=t&partition=0&offset=5), so
 * paging and reloading keep the place.
 */
export async function render({ params }) {
  const [kafka, rocket, queues] = await Promise.all([served('/api/wharf/kafka/topics'), served('/api/wharf/rocketmq/topics'), served('/api/queues')]);
  const topic = params.get('topic');
  const queue = params.get('queue');
  const page = h('div', { class: 'page browse' }, h('h1', null, 'Messages'), h('p', { class: 'muted' }, 'Browsing reads messages where they are stored: nothing is consumed, acknowledged or requeued.'));
  page.append(picker({ kafka, rocket, queues, topic, queue, vhost: params.get('vhost') }));
  try {
    if (topic !== null) {
      const views = [...(kafka.some((t) => t.name === topic) ? ['kafka'] : []), ...(rocket.some((t) => t.name === topic) ? ['rocketmq'] : [])];
      if (views.length === 0) page.append(errorBox(`No topic ${topic}.`));
      else page.append(await browseTopic(topic, views, params, (views[0] === 'kafka' ? kafka : rocket).find((t) => t.name === topic)));
    } else if (queue !== null) {
      page.append(await browseQueue(queue, params.get('vhost') ?? '/', params));
    }
  } catch (err) {
    page.append(errorBox(err.message));
  }
  return page;
}

function picker({ kafka, rocket, queues, topic, queue, vhost }) {
  const topics = [...new Set([...kafka, ...rocket].map((t) => t.name))].sort();
  const select = h(
    'select',
    { name: 'destination', 'aria-label': 'Topic or queue' },
    h('option', { value: '' }, 'Choose a topic or queue…'),
    topics.length ? h('optgroup', { label: 'Topics' }, topics.map((name) => h('option', { value: `topic=${encodeURIComponent(name)}`, selected: name === topic }, name))) : null,
    queues.length
      ? h('optgroup', { label: 'AMQP queues' }, queues.map((q) => h('option', { value: new URLSearchParams({ queue: q.name, vhost: q.vhost }).toString(), selected: q.name === queue && q.vhost === (vhost ?? '/') }, q.vhost === '/' ? q.name : `${q.name} (${q.vhost})`)))
      : null,
  );
  select.addEventListener('change', () => {
    if (select.value) location.hash = `#/browse?${select.value}`;
  });
  return h('div', { class: 'toolbar' }, select);
}

/** Reads the form into the hash, which renders the page again. */
function navigate(form, fixed) {
  const query = new URLSearchParams(fixed);
  for (const [key, value] of new FormData(form)) if (value !== '') query.set(key, String(value));
  location.hash = `#/browse?${query}`;
}

async function browseTopic(name, views, params, summary) {
  const view = views.includes(params.get('as')) ? params.get('as') : views[0];
  const partitions = summary.partitions ?? summary.queues;
  const partition = Math.min(Number(params.get('partition') ?? 0) || 0, partitions - 1);
  const limit = Number(params.get('limit') ?? 20) || 20;
  const offset = params.get('offset');
  const query = new URLSearchParams({ limit: String(limit), ...(offset !== null ? { offset } : {}) });
  const kafka = view === 'kafka';
  query.set(kafka ? 'partition' : 'queue', String(partition));
  const result = await api(`/api/wharf/${kafka ? 'kafka' : 'rocketmq'}/topics/${encodeURIComponent(name)}/messages?${query}`);
  const start = kafka ? result.log_start_offset : result.min_offset;
  const end = kafka ? result.high_watermark : result.max_offset;
  const first = result.messages[0]?.offset ?? end;
  const fixed = { topic: name, as: view, partition: String(partition), limit: String(limit) };
  const form = h(
    'form',
    { class: 'toolbar', onsubmit: (e) => (e.preventDefault(), navigate(e.target, { topic: name })) },
    views.length > 1 ? h('label', null, 'View as ', h('select', { name: 'as' }, views.map((v) => h('option', { value: v, selected: v === view }, v)))) : h('input', { type: 'hidden', name: 'as', value: view }),
    h('label', null, kafka ? 'Partition ' : 'Queue ', h('select', { name: 'partition' }, Array.from({ length: partitions }, (_, p) => h('option', { value: p, selected: p === partition }, String(p))))),
    h('label', null, 'From offset ', h('input', { name: 'offset', type: 'number', min: 0, value: offset ?? '', placeholder: 'latest' })),
    h('label', null, 'Show ', h('input', { name: 'limit', type: 'number', min: 1, max: 1000, value: limit })),
    h('button', { type: 'submit' }, 'Browse'),
  );
  return h(
    'div',
    null,
    h('h2', null, badge(view), ' ', name, ` · ${kafka ? 'partition' : 'queue'} ${partition}`),
    form,
    h('p', { class: 'muted' }, `Offsets ${count(start)} to ${count(end)} (${count(end - start)} messages).`),
    pager([
      first > start ? ['Older', { ...fixed, offset: String(Math.max(start, first - limit)) }] : null,
      result.next_offset < end ? ['Newer', { ...fixed, offset: String(result.next_offset) }] : null,
    ]),
    messages(result.messages, kafka ? kafkaMessage : rocketMessage),
  );
}

async function browseQueue(name, vhost, params) {
  const limit = Number(params.get('limit') ?? 20) || 20;
  const offset = params.get('offset');
  const query = new URLSearchParams({ limit: String(limit), ...(offset !== null ? { offset } : {}) });
  const result = await api(`/api/wharf/amqp/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}/messages?${query}`);
  const fixed = { queue: name, vhost, limit: String(limit) };
  return h(
    'div',
    null,
    h('h2', null, badge('amqp'), ' ', name, vhost === '/' ? '' : ` (${vhost})`),
    h('form', { class: 'toolbar', onsubmit: (e) => (e.preventDefault(), navigate(e.target, { queue: name, vhost })) }, h('label', null, 'From offset ', h('input', { name: 'offset', type: 'number', min: 0, value: offset ?? '', placeholder: 'oldest' })), h('label', null, 'Show ', h('input', { name: 'limit', type: 'number', min: 1, max: 1000, value: limit })), h('button', { type: 'submit' }, 'Browse')),
    h('p', { class: 'muted' }, 'Ready and unacknowledged messages, oldest first.'),
    pager([offset !== null ? ['First', fixed] : null, result.messages.length === limit ? ['Next', { ...fixed, offset: String(result.next_offset) }] : null]),
    messages(result.messages, amqpMessage),
  );
}

function pager(links) {
  const present = links.filter(Boolean);
  return present.length ? h('nav', { class: 'pager' }, present.map(([label, query]) => link(`#/browse?${new URLSearchParams(query)}`, label))) : null;
}

function messages(list, describe) {
  if (list.length === 0) return h('p', { class: 'muted empty' }, 'No messages here.');
  return h('div', { class: 'messages' }, list.map((m) => h('article', { class: 'message' }, ...describe(m))));
}

const kafkaMessage = (m) => [
  h('header', null, h('strong', null, `offset ${m.offset}`), ` · ${time(m.timestamp)}`, m.key === null ? ' · no key' : [' · key ', h('code', null, shown(m.key, m.key_encoding))]),
  properties(Object.fromEntries(m.headers.map((x) => [x.key, x.value === null ? null : shown(x.value, x.encoding)])), 'Headers'),
  body(m.value, m.value_encoding),
];

const rocketMessage = (m) => [
  h('header', null, h('strong', null, `offset ${m.offset}`), ` · ${time(m.store_timestamp)} · ${m.message_type}`, m.tag ? [' · tag ', h('code', null, m.tag)] : null, m.keys.length ? [' · keys ', h('code', null, m.keys.join(', '))] : null, m.message_group ? [' · group ', h('code', null, m.message_group)] : null),
  h('div', { class: 'muted' }, `message id ${m.message_id}`),
  properties(m.properties, 'Properties'),
  body(m.body, m.body_encoding, m.body_bytes),
];

const amqpMessage = (m) => [
  h('header', null, h('strong', null, `offset ${m.offset}`), ` · ${time(m.timestamp)} · ${m.state}${m.redelivered ? ' · redelivered' : ''} · exchange `, h('code', null, m.exchange || '(default)'), ' · routing key ', h('code', null, m.routing_key)),
  properties(Object.fromEntries(Object.entries(m.properties).filter(([k]) => k !== 'headers')), 'Properties'),
  properties(m.properties.headers ?? {}, 'Headers'),
  body(m.payload, m.payload_encoding, m.payload_bytes),
];

const shown = (value, encoding) => (encoding === 'base64' ? `base64:${value}` : value);

function properties(map, label) {
  const entries = Object.entries(map ?? {});
  if (entries.length === 0) return null;
  return h('dl', { class: 'props' }, h('dt', { class: 'caption' }, label), entries.map(([k, v]) => [h('dt', null, k), h('dd', null, v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v))]));
}

/** A body preview: JSON pretty-printed, text as it is, binary as base64; long bodies cut at PREVIEW characters. */
function body(value, encoding, size) {
  if (value === null) return h('p', { class: 'muted' }, 'null body (a tombstone)');
  let text = value;
  if (encoding === 'string') {
    try {
      const parsed = JSON.parse(value);
      if (parsed !== null && typeof parsed === 'object') text = JSON.stringify(parsed, null, 2);
    } catch {
      // not JSON: shown as it is
    }
  }
  const cut = text.length > PREVIEW;
  const bytesOf = size ?? new TextEncoder().encode(value).length;
  return h(
    'div',
    { class: 'body' },
    h('div', { class: 'muted' }, `${encoding === 'base64' ? 'binary, base64' : 'text'} · ${bytes(encoding === 'base64' && size === undefined ? Math.floor((value.length * 3) / 4) : bytesOf)}${cut ? ` · first ${PREVIEW} characters` : ''}`),
    h('pre', null, cut ? `${text.slice(0, PREVIEW)}…` : text),
  );
}
