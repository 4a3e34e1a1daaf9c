// DOM building and formatting. Everything shown goes through text nodes and attributes, never HTML
// strings: topic names and message bodies come from clients.

const SVG_NS = 'http://www.w3.org/2000/svg';
const SVG_TAGS = new Set(['svg', 'polyline', 'line']);

/** h('td', { class: 'num' }, 'text', node, [more]): an element; `on*` props become listeners. */
export function h(tag, props, ...children) {
  const el = SVG_TAGS.has(tag) ? document.createElementNS(SVG_NS, tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'value' && 'value' in el) el.value = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/**
 * A table: `columns` are { label, cell(row) → node or text, num?: true }; rows without data show `empty`.
 * `rowClass(row)` may mark rows.
 */
export function table(columns, rows, { empty = 'Nothing here yet.', rowClass } = {}) {
  if (rows.length === 0) return h('p', { class: 'muted empty' }, empty);
  return h(
    'table',
    null,
    h('thead', null, h('tr', null, columns.map((c) => h('th', { class: c.num ? 'num' : undefined }, c.label)))),
    h('tbody', null, rows.map((row) => h('tr', { class: rowClass?.(row) }, columns.map((c) => h('td', { class: c.num ? 'num' : undefined }, c.cell(row)))))),
  );
}

export const section = (title, ...body) => h('section', null, h('h2', null, title), ...body);

export const card = (label, value, detail) => h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), detail ? h('div', { class: 'detail' }, detail) : null);

export const badge = (protocol) => h('span', { class: `badge ${protocol}` }, protocol);

export const link = (href, text) => h('a', { href }, text);

export const errorBox = (message) => h('p', { class: 'error', role: 'alert' }, message);

const COUNT = new Intl.NumberFormat('en-US');
const RATE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export const count = (n) => (n === null || n === undefined ? '—' : COUNT.format(n));

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** A per-second rate; `undefined` (not measured yet) shows as a dash. */
export const rate = (n, unit = '/s') => (n === undefined ? '—' : `${RATE.format(n)}${unit}`);

export const byteRate = (n) => (n === undefined ? '—' : `${bytes(Math.round(n))}/s`);

export function duration(ms) {
  const s = Math.floor(ms / 1000);
  const parts = [[Math.floor(s / 86400), 'd'], [Math.floor(s / 3600) % 24, 'h'], [Math.floor(s / 60) % 60, 'm'], [s % 60, 's']];
  const first = parts.findIndex(([v]) => v > 0);
  return first < 0 ? '0s' : parts.slice(first, first + 2).map(([v, u]) => `${v}${u}`).join(' ');
}

export const time = (ms) => (ms === null || ms === undefined || ms < 0 ? '—' : new Date(ms).toISOString().replace('T', ' ').replace('Z', ''));

/** A sparkline of the last points of one or more series: { values: number[], class }. */
export function sparkline(series, { width = 160, height = 32 } = {}) {
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values));
  const line = (values) => values.map((v, i) => `${((i / Math.max(1, values.length - 1)) * width).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`).join(' ');
  return h(
    'svg',
    { class: 'spark', viewBox: `0 0 ${width} ${height}`, width, height, 'aria-hidden': 'true' },
    series.filter((s) => s.values.length > 1).map((s) => h('polyline', { class: s.class, points: line(s.values) })),
  );
}
