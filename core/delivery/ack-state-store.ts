import type { Clock, Timer } from '../clock.ts';
import type { Logger } from '../logging.ts';
import type { StorageEngine } from '../storage/partition-log.ts';
import { MetadataLog } from '../topics/metadata-log.ts';

/** What a queue persists about its log: everything below `floor` is done, `done` ranges above it too. */
export interface AckState {
  floor: number;
  done: Array<[number, number]>;
  /** One past the highest offset ever handed to a consumer: below it, an undone message is a redelivery. */
  delivered: number;
  /** Delivery attempts of messages that were delivered and not done, by offset. */
  attempts: Array<[number, number]>;
  /** A DelayScheduler's progress: every entry due at or before this time has fired. */
  firedThrough?: number;
}

/**
 * Ack states of every queue in the internal log `__wharf_queue-state`, written in the background:
 * dirty states are flushed every `intervalMs` (and on close), so acks cost no synchronous write.
 * A crash can redeliver what was acked in the last interval; it never loses an unacked message.
 */
export class AckStateStore {
  private readonly dirty = new Map<string, () => AckState>();
  private timer: Timer | undefined;
  private flushing: Promise<void> | undefined;
  /** The last flush failed (a full disk, say): its states are retried, and the failure is not logged again. */
  private failing = false;
  private closing = false;
  /** Queues removed while a flush was running: a failed flush does not bring their states back. */
  private readonly removedDuringFlush = new Set<string>();

  private constructor(
    private readonly log: MetadataLog<AckState>,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  /** `name` picks the internal log: each owner (plugin) needs its own, since one log has one writer. */
  static async open(engine: StorageEngine, clock: Clock, logger: Logger, { name = 'queue-state', intervalMs = 100 } = {}): Promise<AckStateStore> {
    return new AckStateStore(await MetadataLog.open<AckState>(engine, name), clock, intervalMs, logger);
  }

  get(id: string): AckState | undefined {
    return this.log.get(id);
  }

  /** Marks a queue's state changed; `snapshot` is called at flush time. */
  markDirty(id: string, snapshot: () => AckState): void {
    this.dirty.set(id, snapshot);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    this.timer ??= this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.intervalMs);
  }

  async remove(id: string): Promise<void> {
    this.dirty.delete(id);
    if (this.flushing) this.removedDuringFlush.add(id);
    await this.log.delete(id);
  }

  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.dirty.size === 0) return;
    const flushed = [...this.dirty];
    const changes = flushed.map(([id, snapshot]) => [id, snapshot()] as const);
    this.dirty.clear();
    this.flushing = this.log.write(changes).then(
      () => {
        if (this.failing) this.logger.info('queue state flushes succeed again');
        this.failing = false;
      },
      (err: unknown) => {
        if (!this.failing) this.logger.error({ err }, 'queue state flush failed; retrying until it succeeds (a crash meanwhile redelivers acknowledged messages)');
        this.failing = true;
        for (const [id, snapshot] of flushed) if (!this.dirty.has(id) && !this.removedDuringFlush.has(id)) this.dirty.set(id, snapshot);
        if (!this.closing) this.scheduleFlush();
      },
    );
    await this.flushing;
    this.flushing = undefined;
    this.removedDuringFlush.clear();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.flush();
  }
}
