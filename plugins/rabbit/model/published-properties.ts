import { amqpError } from '../amqp-error.ts';
import { encodePropertiesBytes, type BasicProperties, type FieldTable } from '../codec/index.ts';
import { typeName } from './field-terms.ts';
import type { StoredMessage } from './stored-message.ts';

/** RabbitMQ's longest TTL or expiry: ten years in milliseconds. */
export const MAX_EXPIRY_MS = 315_360_000_000n;
const MAX_EXPIRY = Number(MAX_EXPIRY_MS);

/**
 * A published message in its stored form: CC/BCC checked, BCC stripped, the expiration turned into an
 * absolute time. `routing` is the exchange and routing key as the publish frame carried them, if at hand.
 */
export function storedMessageOf(exchange: string, routingKey: string, routing: Buffer | undefined, properties: Readonly<BasicProperties>, propertyBytes: Buffer): StoredMessage {
  let bytes = propertyBytes;
  if (properties.headers !== undefined) {
    checkRoutingHeader(properties.headers, 'CC');
    checkRoutingHeader(properties.headers, 'BCC');
  }
  if (properties.headers?.has('BCC')) {
    const headers = new Map(properties.headers);
    headers.delete('BCC');
    bytes = encodePropertiesBytes({ ...properties, headers });
  }
  const expiresAt = properties.expiration === undefined ? -1 : Date.now() + expirationMs(properties.expiration);
  return { exchange, routingKey, routing, properties: bytes, persistent: properties.deliveryMode === 2, priority: properties.priority ?? 0, expiresAt };
}

/** Sender-selected routing headers are arrays when present; RabbitMQ refuses the message otherwise. */
export function checkRoutingHeader(headers: FieldTable, name: 'CC' | 'BCC'): void {
  const value = headers.get(name);
  if (value !== undefined && value.type !== 'A') throw amqpError.precondition(`invalid message: {unacceptable_type_in_header,"${name}",${typeName(value)}}`);
}

/** The `expiration` property in milliseconds, read as RabbitMQ reads it (an optional sign, digits, nothing after). */
export function expirationMs(expiration: string): number {
  // The common case, plain digits within range, without allocating.
  let ms = 0;
  let at = 0;
  for (; at < expiration.length && at < 12; at++) {
    const digit = expiration.charCodeAt(at) - 48;
    if (digit < 0 || digit > 9) break;
    ms = ms * 10 + digit;
  }
  if (at > 0 && at === expiration.length && ms <= MAX_EXPIRY) return ms;
  return checkedExpiration(expiration);
}

function checkedExpiration(expiration: string): number {
  const parsed = /^([+-]?\d+)(.*)$/s.exec(expiration);
  const refuse = (reason: string) => amqpError.precondition(`invalid expiration '${expiration}': ${reason}`);
  if (!parsed) throw refuse('no_integer');
  if (parsed[2] !== '') throw refuse(`{leftover_string,${JSON.stringify(parsed[2])}}`);
  const ms = BigInt(parsed[1]!);
  if (ms < 0n) throw refuse(`{value_negative,${ms}}`);
  if (ms > MAX_EXPIRY_MS) throw refuse(`{value_too_large,${ms}}`);
  return Number(ms);
}
