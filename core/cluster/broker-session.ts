import type { Clock, Timer } from '../clock.ts';
import { BrokerError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { put, type CoordinationBackend } from './coordination.ts';
import { encode, keys, type BrokerRegistration } from './cluster-model.ts';

export type SessionEvent =
  /** Registered under a new lease: a new broker epoch. */
  | { type: 'registered'; epoch: number }
  /** The local lease deadline passed: stop acting as leader or controller until 'valid' again. */
  | { type: 'fenced' }
  /** A keepalive succeeded again before the store expired the lease. */
  | { type: 'valid' };

/**
 * This broker's membership: one lease in the coordination store and the registration under it. The
 * lease is renewed every third of its TTL; validity is judged on this process's own monotonic clock
 * (the send time of the last answered keepalive plus the TTL granted, minus a margin), never on the
 * store's late word, so a paused or cut-off broker stops acting on its own before anyone replaces it.
 * A lease the store has expired is replaced by a fresh registration with a new epoch.
 */
export class BrokerSession {
  private lease: string | undefined;
  private epochValue = 0;
  private validUntil = 0;
  private fenced = true;
  private timer: Timer | undefined;
  private fenceTimer: Timer | undefined;
  private stopped = false;
  private registration: BrokerRegistration;
  private readonly listeners = new Set<(event: SessionEvent) => void>();

  constructor(
    private readonly backend: CoordinationBackend,
    registration: BrokerRegistration,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.registration = registration;
  }

  get nodeId(): number {
    return this.registration.nodeId;
  }

  /** The create revision of the current registration. */
  get epoch(): number {
    return this.epochValue;
  }

  get leaseId(): string | undefined {
    return this.lease;
  }

  get ttlMs(): number {
    return this.backend.leaseTtlMs;
  }

  /** True while this broker may act as a member: registered and inside its local lease deadline. */
  get valid(): boolean {
    return !this.fenced && this.clock.monotonic() < this.validUntil;
  }

  onEvent(listener: (event: SessionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Registers. A registration of this node id that is still there may be this broker's previous life
   * (killed and restarted within its lease): it waits for that lease to expire, and fails only if the id
   * is still held after two TTLs, by another live broker.
   */
  async start(): Promise<void> {
    const deadline = this.clock.monotonic() + 2 * this.ttlMs + 1000;
    let waiting = false;
    while (!(await this.register(this.clock.monotonic() >= deadline))) {
      if (!waiting) this.logger.warn({ nodeId: this.nodeId }, 'node id still registered (a previous run of this broker?); waiting for its lease to expire');
      waiting = true;
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, Math.min(500, this.ttlMs / 4)));
    }
    this.scheduleKeepAlive(this.ttlMs / 3);
  }

  /** Adds or replaces an endpoint in this broker's registration (same lease, same epoch). */
  async advertise(name: string, endpoint: { host: string; port: number }): Promise<void> {
    this.registration = { ...this.registration, endpoints: { ...this.registration.endpoints, [name]: endpoint } };
    if (this.lease === undefined) return;
    const result = await this.backend.txn(
      [{ key: keys.broker(this.nodeId), createRevision: this.epochValue }],
      [put(keys.broker(this.nodeId), encode(this.registration), this.lease)],
    );
    if (!result.succeeded) this.logger.warn({ endpoint: name }, 'registration changed while advertising; the next registration carries it');
  }

  /** Leaves the cluster: the registration (and anything else under the lease) goes at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.fenceTimer?.cancel();
    this.fenced = true;
    const lease = this.lease;
    this.lease = undefined;
    if (lease !== undefined) await this.backend.revokeLease(lease).catch((err: unknown) => this.logger.warn({ err }, 'could not revoke the lease; it will expire'));
  }

  /** One registration attempt: true when registered; false while the id is held (throwing instead when `final`). */
  private async register(final: boolean): Promise<boolean> {
    const sentAt = this.clock.monotonic();
    const lease = await this.backend.grantLease(this.ttlMs);
    const result = await this.backend.txn(
      [{ key: keys.broker(this.nodeId), createRevision: 0 }],
      [put(keys.broker(this.nodeId), encode(this.registration), lease)],
    );
    if (!result.succeeded) {
      await this.backend.revokeLease(lease).catch(() => undefined);
      if (final) throw new BrokerError('BROKER_STATE', `node id ${this.nodeId} is registered by another live broker`);
      return false;
    }
    this.lease = lease;
    this.epochValue = result.revision;
    this.logger.info({ nodeId: this.nodeId, epoch: this.epochValue, pid: process.pid }, 'registered in the cluster');
    this.emit({ type: 'registered', epoch: this.epochValue });
    this.extend(sentAt, this.ttlMs);
    return true;
  }

  private scheduleKeepAlive(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => void this.keepAlive(), delayMs);
  }

  private async keepAlive(): Promise<void> {
    const lease = this.lease;
    const sentAt = this.clock.monotonic();
    try {
      if (lease === undefined) {
        if (!(await this.register(false))) this.logger.warn('node id still registered under the old lease; retrying');
      } else {
        const granted = await this.backend.keepAlive(lease);
        if (this.stopped || lease !== this.lease) return;
        if (granted > 0) {
          this.extend(sentAt, granted);
        } else {
          this.logger.warn({ nodeId: this.nodeId, epoch: this.epochValue }, 'the cluster expired this broker\'s lease; registering again');
          this.lease = undefined;
          this.fence();
          await this.register(false);
        }
      }
      this.scheduleKeepAlive(this.ttlMs / 3);
    } catch (err) {
      if (this.stopped) return;
      this.logger.warn({ err: (err as Error).message }, 'lease keepalive failed; retrying');
      this.scheduleKeepAlive(Math.max(50, this.ttlMs / 10));
    }
  }

  /** A keepalive sent at `sentAt` was granted `ttlMs`: valid until then, less a margin for clock drift. */
  private extend(sentAt: number, ttlMs: number): void {
    if (this.stopped) return;
    const margin = Math.min(500, ttlMs / 10);
    this.validUntil = sentAt + ttlMs - margin;
    this.fenceTimer?.cancel();
    this.fenceTimer = this.clock.setTimeout(() => this.fence(), Math.max(0, this.validUntil - this.clock.monotonic()));
    if (this.fenced) {
      this.fenced = false;
      this.emit({ type: 'valid' });
    }
  }

  private fence(): void {
    this.fenceTimer?.cancel();
    if (this.fenced) return;
    this.fenced = true;
    this.logger.warn({ nodeId: this.nodeId, epoch: this.epochValue }, 'lease deadline passed: fenced until the lease is renewed');
    this.emit({ type: 'fenced' });
  }

  private emit(event: SessionEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err, event: event.type }, 'session listener failed');
      }
    }
  }
}
