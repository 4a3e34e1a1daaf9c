import { BrokerError } from '../errors.ts';

/**
 * Who a request acts for, in Kafka's `<type>:<name>` form: `User:alice` once alice has authenticated,
 * `User:ANONYMOUS` for a connection that has not. Every protocol maps its own identities onto this.
 */
export type Principal = string;

export const ANONYMOUS: Principal = 'User:ANONYMOUS';
/** In an ACL: every principal. */
export const ANY_PRINCIPAL: Principal = 'User:*';

export const userPrincipal = (name: string): Principal => `User:${name}`;

/** The user name of a `User:` principal, or undefined for another type. */
export function userNameOf(principal: Principal): string | undefined {
  return principal.startsWith('User:') ? principal.slice(5) : undefined;
}

/** Kafka's SecurityUtils.parseKafkaPrincipal: `<type>:<name>` with both parts present. */
export function checkPrincipal(text: string): Principal {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) {
    throw new BrokerError('INVALID_REQUEST', `expected a string in format principalType:principalName but got ${text}`);
  }
  return text;
}

/**
 * A client address as ACL hosts name it: IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, how a dual-stack
 * socket reports IPv4 peers) become plain IPv4.
 */
export function normalizeHost(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Loopback addresses, and host names that mean only them. */
export function isLoopback(host: string): boolean {
  const h = normalizeHost(host);
  return h === 'localhost' || h === '::1' || h.startsWith('127.');
}
