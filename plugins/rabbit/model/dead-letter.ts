import { decodeProperties, encodePropertiesBytes, field, fieldInteger, fieldText, type FieldTable, type FieldValue } from '../codec/index.ts';
import type { DeadLetterReason } from './queue.ts';
import { decodeMessageKey, type StoredMessage } from './stored-message.ts';

export interface DeadLettered {
  /** The rewritten message; the caller sets its exchange to the dead-letter exchange. */
  message: StoredMessage;
  /** Its headers after the rewrite (a headers exchange routes on them). */
  headers: FieldTable;
  /** The keys to route with at the dead-letter exchange. */
  routingKeys: string[];
}

type Table = Extract<FieldValue, { type: 'F' }>;

/**
 * Rewrites a message for its dead-letter exchange as RabbitMQ 3.10 does. The `x-death` entry of this queue
 * and reason is counted up (whatever integer type the count has, written back as a long; the rest of the
 * entry, its `time` included, is kept) or a new one is added; the first death also sets `x-first-death-*`;
 * the headers come out sorted by name and `expiration` moves into the entry. With a dead-letter routing
 * key the message is routed, and delivered, with that key alone and loses its CC header; without one it
 * keeps its own keys (incl. CC).
 */
export function deadLetter(key: Buffer | null, queueName: string, reason: DeadLetterReason, deadLetterRoutingKey: string | undefined, now: number): DeadLettered {
  const stored = decodeMessageKey(key);
  const properties = decodeProperties(stored.properties, 0, stored.properties.length);
  const messageKeys = [stored.routingKey, ...textArray(properties.headers?.get('CC'))];
  const death: FieldTable = new Map([
    ['reason', field.string(reason)],
    ['queue', field.string(queueName)],
    ['time', field.timestamp(Math.floor(now / 1000))],
    ['exchange', field.string(stored.exchange)],
    ['routing-keys', field.array(messageKeys.map(field.string))],
  ]);
  if (properties.expiration !== undefined) death.set('original-expiration', field.string(properties.expiration));
  const headers = recordDeath(properties.headers ?? new Map(), death, stored.exchange, queueName, reason);
  if (deadLetterRoutingKey !== undefined) headers.delete('CC');
  const rewritten = { ...properties, headers };
  delete rewritten.expiration;
  return {
    message: { ...stored, routingKey: deadLetterRoutingKey ?? stored.routingKey, properties: encodePropertiesBytes(rewritten), expiresAt: -1 },
    headers,
    routingKeys: deadLetterRoutingKey !== undefined ? [deadLetterRoutingKey] : messageKeys,
  };
}

function recordDeath(headers: FieldTable, death: FieldTable, exchange: string, queue: string, reason: string): FieldTable {
  const updated = new Map(headers);
  const fresh = (): FieldTable => new Map([['count', field.long(1)], ...death]);
  const deaths = headers.get('x-death');
  if (deaths === undefined) {
    updated.set('x-first-death-reason', field.string(reason));
    updated.set('x-first-death-queue', field.string(queue));
    updated.set('x-first-death-exchange', field.string(exchange));
    updated.set('x-death', field.array([{ type: 'F', value: fresh() }]));
  } else if (deaths.type !== 'A') {
    // A client republished it with x-death turned into something else: RabbitMQ starts it over.
    updated.set('x-death', field.array([{ type: 'F', value: fresh() }]));
  } else {
    const others = groupByQueueAndReason(deaths.value);
    const at = others.findIndex((d) => d.type === 'F' && fieldText(d.value.get('queue')) === queue && fieldText(d.value.get('reason')) === reason);
    const entry = at < 0 ? fresh() : countedAgain((others.splice(at, 1)[0] as Table).value);
    updated.set('x-death', field.array([{ type: 'F', value: sortedByName(entry) }, ...others]));
  }
  return sortedByName(updated);
}

/** The entry with its count one higher (a long, as RabbitMQ writes it), at its place; a count of 1 if it had none. */
function countedAgain(entry: FieldTable): FieldTable {
  const count = entry.get('count');
  if (count === undefined) return new Map([['count', field.long(1)], ...entry]);
  const n = fieldInteger(count) ?? (count.type === 'T' ? count.value : 0n);
  return new Map(entry).set('count', field.long(n + 1n));
}

/**
 * RabbitMQ merges entries of one queue and reason (left by brokers before 3.5), keeping the first and
 * giving it their number as count if it has none. Its fold leaves the entries in reverse order.
 */
function groupByQueueAndReason(entries: readonly FieldValue[]): FieldValue[] {
  if (entries.length <= 1) return [...entries];
  const keyOf = (e: FieldValue) => (e.type === 'F' ? `${printKey(e.value.get('queue'))}\u0000${printKey(e.value.get('reason'))}` : undefined);
  const seen = new Set<string | undefined>();
  const grouped: FieldValue[] = [];
  for (const entry of entries) {
    const key = keyOf(entry);
    if (grouped.length > 0 && key !== undefined && seen.has(key)) continue;
    seen.add(key);
    const same = key === undefined ? [entry] : entries.filter((e) => keyOf(e) === key);
    const first = same[0]!;
    grouped.unshift(first.type === 'F' && !first.value.has('count') ? { type: 'F', value: new Map([['count', field.long(same.length)], ...first.value]) } : first);
  }
  return grouped;
}

const printKey = (v: FieldValue | undefined): string => (v === undefined ? '' : (fieldText(v) ?? `${v.type}:${String(v.value)}`));

/** Field tables as RabbitMQ leaves them after changing one: sorted by name, byte by byte. */
function sortedByName(table: FieldTable): FieldTable {
  return new Map([...table].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
}

/**
 * Whether dead-lettering into `queueName` closes a cycle with no rejection in it (RabbitMQ drops those):
 * the entries up to and including the newest one of that queue all carry an automatic reason.
 */
export function isDeadLetterCycle(headers: FieldTable, queueName: string): boolean {
  const deaths = headers.get('x-death');
  if (deaths?.type !== 'A') return false;
  const at = deaths.value.findIndex((d) => d.type === 'F' && isText(d.value.get('queue'), queueName));
  return at >= 0 && deaths.value.slice(0, at + 1).every((d) => d.type === 'F' && !isText(d.value.get('reason'), 'rejected'));
}

const isText = (v: FieldValue | undefined, text: string): boolean => v?.type === 'S' && v.value.toString('utf8') === text;

/** The longstr entries of an array header (CC, BCC), as RabbitMQ routes on them. */
export function textArray(value: FieldValue | undefined): string[] {
  if (value?.type !== 'A') return [];
  return value.value.flatMap((v) => (v.type === 'S' ? [v.value.toString('utf8')] : []));
}
