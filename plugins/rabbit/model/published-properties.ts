import { amqpError } from '../amqp-error.ts';
import type { FieldTable } from '../codec/index.ts';
import { typeName } from './field-terms.ts';

/** RabbitMQ's longest TTL or expiry: ten years in milliseconds. */
export const MAX_EXPIRY_MS = 315_360_000_000n;
const MAX_EXPIRY = Number(MAX_EXPIRY_MS);

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
