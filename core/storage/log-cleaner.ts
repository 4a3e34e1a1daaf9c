import type { Clock, Timer } from '../clock.ts';
import type { Logger } from '../logging.ts';
import type { PartitionLog } from './partition-log.ts';

/** Kafka's log.cleaner.backoff.ms: how long the cleaner sleeps when no log is due. */
export const DEFAULT_CLEANER_BACKOFF_MS = 15_000;

/**
 * Kafka's log cleaner, one "thread": every `backoffMs` it cleans the compacted logs that are due
 * (dirty ratio at min.cleanable.dirty.ratio, or a record past max.compaction.lag.ms), dirtiest first,
 * one pass at a time. A pass yields to the event loop as it goes, so serving carries on beside it.
 */
export class LogCleaner {
  private timer: Timer | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly logs: () => Iterable<PartitionLog>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly backoffMs = DEFAULT_CLEANER_BACKOFF_MS,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.running;
  }

  /** Cleans every log that is due now; resolves when done. */
  async cleanDueLogs(): Promise<number> {
    const now = this.clock.now();
    const due: Array<{ log: PartitionLog; ratio: number }> = [];
    for (const log of this.logs()) {
      const state = log.compactionState(now);
      if (state?.due) due.push({ log, ratio: state.dirtyRatio });
    }
    due.sort((a, b) => b.ratio - a.ratio);
    let cleaned = 0;
    for (const { log } of due) {
      if (this.stopped) break;
      const started = performance.now();
      const stats = await log.compact(now).catch((err: unknown) => {
        this.logger.error({ err, topic: log.topic, partition: log.partition }, 'compaction failed');
        return undefined;
      });
      if (stats === undefined) continue;
      cleaned++;
      this.logger.info(
        {
          topic: log.topic,
          partition: log.partition,
          cleanedTo: stats.cleanedTo,
          segments: `${stats.segmentsBefore} -> ${stats.segmentsAfter}`,
          bytesRead: stats.bytesRead,
          bytesWritten: stats.bytesWritten,
          recordsRemoved: stats.recordsRemoved,
          ms: Math.round(performance.now() - started),
        },
        stats.completed ? 'compacted a log' : 'a compaction stopped early: the log changed',
      );
    }
    return cleaned;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.running = this.cleanDueLogs()
        .then(() => undefined)
        .catch((err: unknown) => this.logger.error({ err }, 'the log cleaner failed'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule();
        });
    }, this.backoffMs);
  }
}
