import { decodeProperties, encodePropertiesBytes, field, fieldText, type FieldTable, type FieldValue } from '../codec/index.ts';
import type { DeadLetterReason } from './queue.ts';
import { decodeMessageKey, type StoredMessage } from './stored-message.ts';

export interface DeadLettered {
  message: StoredMessage;
  /** The keys to route with at the dead-letter exchange. */
  routingKeys: string[];
}

/**
 * Rewrites a message for its dead-letter exchange as RabbitMQ does: an `x-death` entry per queue and
 * reason (counted, newest first), the `x-first-death-*` headers once, `expiration` moved into the entry,
 * and routing by the queue's dead-letter routing key or the message's own keys (incl. CC).
 */
export function deadLetter(key: Buffer | null, queueName: string, reason: DeadLetterReason, deadLetterRoutingKey: string | undefined, now: number): DeadLettered {
  const stored = decodeMessageKey(key);
  const properties = decodeProperties(stored.properties, 0, stored.properties.length);
  const headers: FieldTable = new Map(properties.headers ?? []);
  const cc = textArray(headers.get('CC'));
  const routingKeys = [stored.routingKey, ...cc];
  const previous = headers.get('x-death');
  const deaths = previous?.type === 'A' ? [...previous.value] : [];
  const existing = deaths.findIndex((d) => d.type === 'F' && fieldText(d.value.get('queue')) === queueName && fieldText(d.value.get('reason')) === reason);
  let entry: FieldValue;
  if (existing >= 0) {
    const old = deaths.splice(existing, 1)[0]! as Extract<FieldValue, { type: 'F' }>;
    const count = old.value.get('count');
    const table = new Map(old.value);
    table.set('count', field.long((count?.type === 'l' ? count.value : 0n) + 1n));
    table.set('time', field.timestamp(Math.floor(now / 1000)));
    entry = { type: 'F', value: table };
  } else {
    const table: Record<string, FieldValue> = {
      count: field.long(1),
      reason: field.string(reason),
      queue: field.string(queueName),
      time: field.timestamp(Math.floor(now / 1000)),
      exchange: field.string(stored.exchange),
      'routing-keys': field.array(routingKeys.map(field.string)),
    };
    if (properties.expiration !== undefined) table['original-expiration'] = field.string(properties.expiration);
    entry = field.table(table);
  }
  headers.set('x-death', field.array([entry, ...deaths]));
  if (!headers.has('x-first-death-reason')) {
    headers.set('x-first-death-exchange', field.string(stored.exchange));
    headers.set('x-first-death-queue', field.string(queueName));
    headers.set('x-first-death-reason', field.string(reason));
  }
  const rewritten = { ...properties, headers };
  delete rewritten.expiration;
  return {
    message: { ...stored, properties: encodePropertiesBytes(rewritten), expiresAt: -1 },
    routingKeys: deadLetterRoutingKey !== undefined ? [deadLetterRoutingKey] : routingKeys,
  };
}

/** Whether dead-lettering into `queueName` would close a cycle with no rejection in it (RabbitMQ drops those). */
export function isDeadLetterCycle(properties: FieldTable | undefined, queueName: string): boolean {
  const deaths = properties?.get('x-death');
  if (deaths?.type !== 'A') return false;
  const entries = deaths.value.filter((d): d is Extract<FieldValue, { type: 'F' }> => d.type === 'F');
  return entries.some((d) => fieldText(d.value.get('queue')) === queueName) && entries.every((d) => fieldText(d.value.get('reason')) !== 'rejected');
}

export function textArray(value: FieldValue | undefined): string[] {
  if (value?.type !== 'A') return [];
  return value.value.flatMap((v) => (v.type === 'S' || v.type === 'x' ? [v.value.toString('utf8')] : []));
}
