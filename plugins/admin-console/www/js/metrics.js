// Live rates from the counters in /metrics (Prometheus text): every sample is compared with the one
// before it. The families read are Wharf's protocol-neutral ones, so all protocols rate the same way.

const FAMILIES = new Set(['wharf_messages_in_total', 'wharf_messages_out_total', 'wharf_bytes_in_total', 'wharf_bytes_out_total', 'wharf_connections']);
const HISTORY = 60;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of the wanted families: [{ name, labels, value }]. */
export function parseSamples(text, wanted = FAMILIES) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line[0] === '#') continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    const name = line.slice(0, brace >= 0 && brace < space ? brace : space);
    if (!wanted.has(name)) continue;
    const labels = {};
    if (brace >= 0 && brace < space) {
      const close = line.lastIndexOf('}');
      for (const [, key, value] of line.slice(brace + 1, close).matchAll(LABEL)) labels[key] = value.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name, labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) });
  }
  return samples;
}

/** The key of the destination a sample counts: a topic, or an AMQP queue in its vhost. */
export const destinationKey = (labels) => (labels.queue !== undefined ? `queue:${labels.vhost}:${labels.queue}` : labels.topic !== undefined ? `topic:${labels.topic}` : undefined);

/**
 * Samples /metrics on demand and keeps per-second rates: per protocol (with a short history for
 * sparklines) and per destination. Rates are undefined until two samples exist.
 */
export class Rates {
  constructor(fetchText) {
    this.fetchText = fetchText;
    this.previous = undefined;
    /** Samples taken; rates exist from the second on. */
    this.samples = 0;
    /** protocol → { messagesIn, messagesOut, bytesIn, bytesOut } per second */
    this.protocols = new Map();
    /** destination key → { messagesIn, messagesOut } per second */
    this.destinations = new Map();
    /** protocol → live connections */
    this.connections = new Map();
    /** protocol → { in: number[], out: number[] } message rates, oldest first */
    this.history = new Map();
  }

  async sample() {
    const at = performance.now();
    const samples = parseSamples(await this.fetchText());
    const totals = new Map();
    this.connections = new Map();
    for (const s of samples) {
      if (s.name === 'wharf_connections') {
        this.connections.set(s.labels.protocol, (this.connections.get(s.labels.protocol) ?? 0) + s.value);
        continue;
      }
      const key = `${s.name}|${s.labels.protocol}|${destinationKey(s.labels) ?? ''}`;
      totals.set(key, (totals.get(key) ?? 0) + s.value);
    }
    const previous = this.previous;
    this.previous = { at, totals };
    this.samples++;
    if (!previous) return;
    const seconds = (at - previous.at) / 1000;
    const protocols = new Map();
    const destinations = new Map();
    for (const [key, value] of totals) {
      // A series that appeared since the last sample counted from zero; one that went down restarted.
      const before = previous.totals.get(key) ?? 0;
      const perSecond = value < before ? value / seconds : (value - before) / seconds;
      const [name, protocol, destination] = key.split('|');
      const field = FIELD[name];
      const p = protocols.get(protocol) ?? { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
      p[field] += perSecond;
      protocols.set(protocol, p);
      if (destination && (field === 'messagesIn' || field === 'messagesOut')) {
        const d = destinations.get(destination) ?? { messagesIn: 0, messagesOut: 0 };
        d[field] += perSecond;
        destinations.set(destination, d);
      }
    }
    this.protocols = protocols;
    this.destinations = destinations;
    for (const [protocol, r] of protocols) {
      const h = this.history.get(protocol) ?? { in: [], out: [] };
      h.in.push(r.messagesIn);
      h.out.push(r.messagesOut);
      if (h.in.length > HISTORY) (h.in.shift(), h.out.shift());
      this.history.set(protocol, h);
    }
  }

  /** Per-second message and byte rates of a protocol; undefined before the second sample. */
  ofProtocol(protocol) {
    if (this.samples < 2) return undefined;
    return this.protocols.get(protocol) ?? { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
  }

  /** Per-second message rates in and out of a destination (destinationKey); undefined before the second sample. */
  ofDestination(key) {
    if (this.samples < 2) return undefined;
    return this.destinations.get(key) ?? { messagesIn: 0, messagesOut: 0 };
  }
}

const FIELD = { wharf_messages_in_total: 'messagesIn', wharf_messages_out_total: 'messagesOut', wharf_bytes_in_total: 'bytesIn', wharf_bytes_out_total: 'bytesOut' };
