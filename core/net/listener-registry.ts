import { injectable } from 'inversify';
import type { ClientConnection } from './tcp-listener.ts';

/** A listener whose open connections can be listed. */
export interface ConnectionSource {
  clients(): ClientConnection[];
}

export interface ListenerAddress {
  protocol: string;
  host: string;
  port: number;
  /** `tls`: a TLS port; `detect`: TLS and plaintext on one port; absent: plaintext. */
  tls?: 'tls' | 'detect';
}

/** Where protocol plugins announce the addresses they actually listen on. */
@injectable()
export class ListenerRegistry {
  private readonly addresses: ListenerAddress[] = [];
  private readonly accessByProtocol = new Map<string, string>();
  private readonly sources = new Set<ConnectionSource>();

  add(address: ListenerAddress): void {
    this.addresses.push(address);
  }

  remove(protocol: string): void {
    for (let i = this.addresses.length - 1; i >= 0; i--) if (this.addresses[i]!.protocol === protocol) this.addresses.splice(i, 1);
  }

  /** A listener that serves connections (added once it is bound, removed when it stops). */
  track(source: ConnectionSource): void {
    this.sources.add(source);
  }

  untrack(source: ConnectionSource): void {
    this.sources.delete(source);
  }

  /** Every open client connection of every listener. */
  clients(): ClientConnection[] {
    return [...this.sources].flatMap((source) => source.clients());
  }

  list(): readonly ListenerAddress[] {
    return this.addresses;
  }

  /** Says what clients of a protocol must do to use it (`SASL PLAIN/SCRAM-SHA-512 required`), for the readiness line. */
  describeAccess(protocol: string, access: string): void {
    this.accessByProtocol.set(protocol, access);
  }

  access(protocol: string): string | undefined {
    return this.accessByProtocol.get(protocol);
  }

  /** The first port a protocol listens on, or undefined. */
  port(protocol: string): number | undefined {
    return this.addresses.find((a) => a.protocol === protocol)?.port;
  }
}
