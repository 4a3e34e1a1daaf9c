import { inject, injectable, optional } from 'inversify';
import type { Clock } from '../clock.ts';
import type { BrokerConfig } from '../config.ts';
import { BrokerError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { WHARF_HISTOGRAMS } from '../metrics/families.ts';
import type { HistogramSeries } from '../metrics/latency-histogram.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Replicator } from '../replication/replicator.ts';
import { TOKENS } from '../tokens.ts';
import type { DiskMonitor } from './disk-monitor.ts';
import { LogCleaner } from './log-cleaner.ts';
import { checkLogConfig, type LogConfig } from './log-config.ts';
import { logDirName, parseLogDirName } from './log-names.ts';
import type { LogId, StorageEngine } from './partition-log.ts';
import type { SegmentStore } from './segment-store.ts';
import { SegmentedLog } from './segmented-log.ts';
import { DEFAULT_CLEANER_IO_MAX_BYTES_PER_SECOND } from './log-compactor.ts';

/** The storage engine Wharf writes once: segmented logs over whatever SegmentStore a plugin provides. */
@injectable()
export class SegmentedStorageEngine implements StorageEngine {
  private readonly logs = new Map<string, Promise<SegmentedLog>>();
  private readonly openLogs = new Set<SegmentedLog>();
  private closed = false;
  /** Compacts the logs whose cleanup policy says so. */
  readonly cleaner: LogCleaner;
  private readonly syncs: HistogramSeries | undefined;
  /** Whether cleaning passes run their record-level work on the cleaner thread (log.cleaner.threads 1) or the event loop (0). */
  cleanerThread: boolean;
  private readonly fileDeleteDelayMs: number | undefined;
  /** log.cleaner.io.max.bytes.per.second for the logs opened from now on; 0 for no limit. */
  cleanerIoMaxBytesPerSecond: number;

  constructor(
    @inject(TOKENS.SegmentStore) private readonly store: SegmentStore,
    @inject(TOKENS.Replicator) private readonly replicator: Replicator,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.DiskMonitor) @optional() private readonly disk?: DiskMonitor,
    @inject(TOKENS.Metrics) @optional() metrics?: Metrics,
    @inject(TOKENS.Config) @optional() config?: BrokerConfig,
  ) {
    this.cleaner = new LogCleaner(() => this.openLogs, clock, logger, config?.topics.logCleanerBackoffMs);
    this.cleanerThread = (config?.topics.logCleanerThreads ?? 1) > 0;
    this.fileDeleteDelayMs = config?.topics.fileDeleteDelayMs;
    this.cleanerIoMaxBytesPerSecond = config?.topics.logCleanerIoMaxBytesPerSecond ?? DEFAULT_CLEANER_IO_MAX_BYTES_PER_SECOND;
    this.syncs = metrics?.histogram(WHARF_HISTOGRAMS.fsyncDuration).labels();
  }

  get durable(): boolean {
    return this.store.durable;
  }

  get description(): string {
    return this.store.description;
  }

  async open(): Promise<void> {
    this.closed = false;
    this.cleaner.start();
  }

  async freeBytes(): Promise<number | undefined> {
    return this.store.freeBytes?.();
  }

  openLog(id: LogId, config: LogConfig): Promise<SegmentedLog> {
    if (this.closed) return Promise.reject(new BrokerError('LOG_CLOSED', 'the storage engine is closed'));
    checkLogConfig(config);
    const dir = logDirName(id);
    let log = this.logs.get(dir);
    if (log === undefined) {
      const onFull = this.disk ? () => this.disk!.reportFull() : undefined;
      const onSync = this.syncs ? (seconds: number) => this.syncs!.observe(seconds) : undefined;
      log = SegmentedLog.open({ id, dir, store: this.store, config, replicator: this.replicator, clock: this.clock, logger: this.logger, onFull, onSync, cleanerThread: this.cleanerThread, fileDeleteDelayMs: this.fileDeleteDelayMs, cleanerIoMaxBytesPerSecond: this.cleanerIoMaxBytesPerSecond });
      this.logs.set(dir, log);
      log.then(
        (opened) => this.openLogs.add(opened),
        () => this.logs.delete(dir),
      );
    }
    return log;
  }

  async listLogs(): Promise<LogId[]> {
    return (await this.store.listLogs()).map(parseLogDirName).filter((id): id is LogId => id !== undefined);
  }

  async deleteLog(id: LogId): Promise<void> {
    const dir = logDirName(id);
    const open = this.logs.get(dir);
    this.logs.delete(dir);
    if (open) {
      const log = await open;
      this.openLogs.delete(log);
      await log.close();
    }
    await this.store.deleteLog(dir);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.cleaner.stop();
    const logs = [...this.logs.values()];
    this.logs.clear();
    this.openLogs.clear();
    const results = await Promise.allSettled(logs.map(async (log) => (await log).close()));
    await this.store.close();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw new BrokerError('STORAGE_IO', 'a log failed to close cleanly', { cause: failed.reason });
  }
}
