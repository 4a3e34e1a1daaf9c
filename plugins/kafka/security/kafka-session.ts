import { ANONYMOUS, AuthorizationCache, type AclOperation, type Principal, type ResourceType, type Security } from '../../../core/index.ts';
import type { SaslMechanismServer } from './sasl-mechanisms.ts';

/** What a Kafka listener offers for authentication. */
export interface SaslSettings {
  /** Mechanisms a client may pick in SaslHandshake; empty turns SASL off (the handshake is refused). */
  readonly mechanisms: readonly string[];
  /** Kafka's connections.max.reauth.ms: an authenticated session lasts this long unless renewed; 0 forever. */
  readonly maxReauthMs: number;
}

/**
 * One connection's identity: User:ANONYMOUS until a SASL exchange completes, then the user it proved.
 * Holds the exchange in progress, the session's expiry (KIP-368), and the connection's authorization
 * cache. A mechanism that completes asynchronously (PLAIN's password check) sets `pending`, and the
 * connection's later requests wait for it, so they are judged under the identity that results.
 */
export class KafkaSession {
  principal: Principal = ANONYMOUS;
  authenticated = false;
  mechanism: string | undefined;
  /** The exchange in progress, from the handshake until it completes or fails. */
  exchange: SaslMechanismServer | undefined;
  /** After a v0 handshake, tokens arrive bare (4-byte size and bytes), not in SaslAuthenticate requests. */
  raw = false;
  /** A re-authentication asked for another mechanism: its first token fails (Kafka's REAUTH_BAD_MECHANISM). */
  badMechanism: string | undefined;
  /** When the session expires (clock ms), 0 never. */
  expiresAt = 0;
  lastReauthStart = -Infinity;
  pending: Promise<unknown> | undefined;
  private cache: AuthorizationCache;

  constructor(
    readonly security: Security,
    readonly settings: SaslSettings,
    private readonly remoteAddress: string | undefined,
  ) {
    this.cache = new AuthorizationCache(security.authorizer, ANONYMOUS, remoteAddress);
  }

  /** The client address as ACL hosts name it. */
  get host(): string {
    return this.cache.host;
  }

  allows(operation: AclOperation, resourceType: ResourceType, resourceName: string): boolean {
    return this.cache.allows(operation, resourceType, resourceName);
  }

  allowsAnyOf(operation: AclOperation, resourceType: ResourceType): boolean {
    return this.security.authorizer.authorizeByResourceType(this.principal, this.host, operation, resourceType);
  }

  /** Whether a SaslAuthenticate or raw token continues an exchange now. */
  get exchanging(): boolean {
    return this.exchange !== undefined;
  }

  expired(now: number): boolean {
    return this.expiresAt > 0 && now >= this.expiresAt;
  }

  /** The exchange succeeded: the connection acts as `principal` until `lifetimeMs` passes (0: forever). */
  authenticatedAs(principal: Principal, mechanism: string, lifetimeMs: number, now: number): void {
    if (principal !== this.principal) this.cache = new AuthorizationCache(this.security.authorizer, principal, this.remoteAddress);
    this.principal = principal;
    this.mechanism = mechanism;
    this.authenticated = true;
    this.exchange = undefined;
    this.raw = false;
    this.expiresAt = lifetimeMs > 0 ? now + lifetimeMs : 0;
  }

  /** Runs an asynchronous step; the connection's later requests start after it. */
  run<T>(step: Promise<T>): Promise<T> {
    const pending = step.finally(() => {
      if (this.pending === pending) this.pending = undefined;
    });
    this.pending = pending;
    return pending;
  }
}
