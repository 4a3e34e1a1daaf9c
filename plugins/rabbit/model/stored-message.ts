import { malformed } from '../../../core/index.ts';

/** A message as the queues store it: routing facts and the AMQP properties in the record key, the body as the value. */
export interface StoredMessage {
  exchange: string;
  routingKey: string;
  /** The exchange and routing key already encoded as two shortstrs, when the publish frame carried them so. */
  routing?: Buffer;
  /** The content header's property section, exactly as published (or as rewritten by dead-lettering). */
  properties: Buffer;
  persistent: boolean;
  priority: number;
  /** Per-message expiry (ms since epoch) from the `expiration` property, or -1. */
  expiresAt: number;
}

const VERSION = 1;
const PERSISTENT = 1;

/** [version][flags][expiresAt f64][priority][exchange shortstr][routing key shortstr][properties...] */
export function encodeMessageKey(m: StoredMessage): Buffer {
  if (m.routing) {
    const buf = Buffer.allocUnsafe(11 + m.routing.length + m.properties.length);
    writeKeyHead(buf, m);
    m.properties.copy(buf, 11 + m.routing.copy(buf, 11));
    return buf;
  }
  const exchangeLength = Buffer.byteLength(m.exchange);
  const keyLength = Buffer.byteLength(m.routingKey);
  const buf = Buffer.allocUnsafe(13 + exchangeLength + keyLength + m.properties.length);
  writeKeyHead(buf, m);
  buf[11] = exchangeLength;
  let at = 12 + buf.write(m.exchange, 12, 'utf8');
  buf[at] = keyLength;
  at += 1 + buf.write(m.routingKey, at + 1, 'utf8');
  m.properties.copy(buf, at);
  return buf;
}

function writeKeyHead(buf: Buffer, m: StoredMessage): void {
  buf[0] = VERSION;
  buf[1] = m.persistent ? PERSISTENT : 0;
  buf.writeDoubleBE(m.expiresAt, 2);
  buf[10] = m.priority;
}

export function decodeMessageKey(key: Buffer | null): StoredMessage {
  if (!key || key.length < 13 || key[0] !== VERSION) throw malformed('not a stored AMQP message');
  const exchangeLength = key[11]!;
  const keyAt = 12 + exchangeLength;
  if (keyAt >= key.length) throw malformed('stored message key truncated');
  const keyLength = key[keyAt]!;
  const propertiesAt = keyAt + 1 + keyLength;
  if (propertiesAt > key.length) throw malformed('stored message key truncated');
  return {
    persistent: (key[1]! & PERSISTENT) !== 0,
    expiresAt: key.readDoubleBE(2),
    priority: key[10]!,
    exchange: key.toString('utf8', 12, keyAt),
    routingKey: key.toString('utf8', keyAt + 1, propertiesAt),
    properties: key.subarray(propertiesAt),
  };
}

/** Only the flags and expiry, without decoding strings: the hot path of delivery checks. */
export function storedExpiry(key: Buffer | null): number {
  return key && key.length >= 10 ? key.readDoubleBE(2) : -1;
}

export function storedPersistent(key: Buffer | null): boolean {
  return key !== null && (key[1]! & PERSISTENT) !== 0;
}

/** Where the exchange and routing-key shortstrs begin in a stored key (basic.deliver carries them as they are). */
export const STORED_ROUTING_AT = 11;

/** Where the property bytes begin in a stored key; they run to its end. Throws MALFORMED_INPUT for a bad key. */
export function storedPropertiesAt(key: Buffer | null): number {
  if (!key || key.length < 13 || key[0] !== VERSION) throw malformed('not a stored AMQP message');
  const keyAt = 12 + key[11]!;
  if (keyAt >= key.length) throw malformed('stored message key truncated');
  const propertiesAt = keyAt + 1 + key[keyAt]!;
  if (propertiesAt > key.length) throw malformed('stored message key truncated');
  return propertiesAt;
}
