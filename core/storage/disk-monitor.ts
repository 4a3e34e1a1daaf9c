import { inject, injectable } from 'inversify';
import type { Clock, Timer } from '../clock.ts';
import type { BrokerConfig } from '../config.ts';
import type { Logger } from '../logging.ts';
import { TOKENS } from '../tokens.ts';

/** Where free space is measured: the storage engine's disk (undefined when it has none, e.g. memory). */
export interface FreeSpaceSource {
  freeBytes?(): Promise<number | undefined>;
}

/** RabbitMQ's disk monitor bounds: it checks as often as the disk could fill at 250 MB/s, within [100 ms, 10 s]. */
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 10_000;
const FAST_RATE_BYTES_PER_MS = 250_000;
/** After a write failed for want of space, writes resume only once this much is free (or the limit, if larger). */
const FULL_HEADROOM_BYTES = 1024 * 1024;

/**
 * RabbitMQ's `disk_free_limit` for the whole broker: while the storage disk has less free space than the
 * limit, or a write found it full, the broker is read-only — protocols refuse or block writes, each with its
 * own error, and reads go on. Writes resume on their own once space returns.
 */
@injectable()
export class DiskMonitor {
  private source: FreeSpaceSource | undefined;
  private readonly limit: number;
  private alarmed = false;
  /** A write failed with ENOSPC: stay read-only until the headroom is free again. */
  private full = false;
  private lastFree: number | undefined;
  private timer: Timer | undefined;
  private stopped = true;
  private readonly listeners = new Set<(readOnly: boolean) => void>();

  constructor(
    @inject(TOKENS.Config) config: BrokerConfig,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {
    this.limit = config.diskFreeLimit;
  }

  /** Writes are refused: the disk is below the free-space limit or was found full. */
  get readOnly(): boolean {
    return this.alarmed;
  }

  /** Free space below which the broker is read-only (`diskFreeLimit`). */
  get limitBytes(): number {
    return this.limit;
  }

  /** The free bytes last measured, if the storage has a disk. */
  get freeBytes(): number | undefined {
    return this.lastFree;
  }

  /** Measures once now (so a broker started on a full disk starts read-only), then keeps measuring. */
  async start(source: FreeSpaceSource): Promise<void> {
    this.source = source;
    this.stopped = false;
    await this.check();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** A write failed for want of space: read-only at once, not at the next measurement. */
  reportFull(): void {
    this.full = true;
    this.set(true);
    if (!this.stopped) this.schedule(MIN_INTERVAL_MS);
  }

  /** Calls `listener` whenever the broker turns read-only or writable again; returns the unsubscribe function. */
  onChange(listener: (readOnly: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async check(): Promise<void> {
    this.timer = undefined;
    let free: number | undefined;
    try {
      free = await this.source?.freeBytes?.();
    } catch (err) {
      this.logger.warn({ err }, 'could not measure free disk space');
    }
    if (this.stopped || free === undefined) return;
    this.lastFree = free;
    if (this.full && free >= Math.max(this.limit, FULL_HEADROOM_BYTES)) this.full = false;
    this.set(this.full || free < this.limit);
    this.schedule(Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, (free - this.limit) / FAST_RATE_BYTES_PER_MS)));
  }

  private schedule(delayMs: number): void {
    this.timer?.cancel();
    this.timer = this.clock.setTimeout(() => void this.check(), delayMs);
  }

  private set(readOnly: boolean): void {
    if (readOnly === this.alarmed) return;
    this.alarmed = readOnly;
    if (readOnly) this.logger.warn({ freeBytes: this.lastFree, limit: this.limit }, 'free disk space is below the limit: the broker is read-only, writes are refused');
    else this.logger.warn({ freeBytes: this.lastFree, limit: this.limit }, 'free disk space is above the limit again: writes resume');
    for (const listener of [...this.listeners]) listener(readOnly);
  }
}
