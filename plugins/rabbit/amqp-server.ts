import os from 'node:os';
import {
  AckStateStore,
  RecurringWarning,
  TcpListener,
  TOKENS,
  WHARF_HISTOGRAMS,
  type HistogramSeries,
  type LatencyHistogram,
  type Metrics,
  type BrokerConfig,
  type Clock,
  type DiskMonitor,
  type ConnectionBudget,
  type ListenerRegistry,
  type Logger,
  type PluginContext,
  type Security,
  type StorageEngine,
  type TlsCredentials,
  type TopicRegistry,
} from '../../core/index.ts';
import type { AmqpContext, AmqpSettings } from './amqp-context.ts';
import { AmqpCounters } from './amqp-stats.ts';
import { UserDirectory } from './auth.ts';
import { AmqpConnection } from './connection.ts';
import { Definitions } from './model/definitions.ts';
import { DirectReplyTo } from './model/direct-reply-to.ts';
import { Vhost } from './model/vhost.ts';

/** The AMQP listeners (plaintext `amqp`, TLS `amqp-tls`), their vhosts, and flow control on memory and disk alarms. */
export class AmqpServer implements AmqpContext {
  settings!: AmqpSettings;
  vhosts = new Map<string, Vhost>();
  users!: UserDirectory;
  clock!: Clock;
  readonly counters = new AmqpCounters();
  private readonly replyTo = new DirectReplyTo();
  private latency: LatencyHistogram | undefined;
  private readonly latencies = new Map<string, HistogramSeries>();
  private memoryAlarm = false;
  private diskAlarm = false;
  private unwatchDisk: (() => void) | undefined;
  private listeners: TcpListener[] = [];
  private ackStore: AckStateStore | undefined;
  private readonly connections = new Set<AmqpConnection>();
  private readonly cleanups = new Set<Promise<void>>();
  private memoryTimer: NodeJS.Timeout | undefined;
  private logger!: Logger;
  private rssUnreadable!: RecurringWarning;

  async start({ container, section, logger }: PluginContext<AmqpSettings>): Promise<void> {
    this.settings = section;
    this.logger = logger;
    this.rssUnreadable = new RecurringWarning(logger, 'cannot read the memory use (out of file descriptors?); the memory watermark keeps its last state');
    this.clock = container.get<Clock>(TOKENS.Clock);
    this.users = new UserDirectory(section.users, container.get<Security>(TOKENS.Security), section.loopbackUsers);
    this.latency = container.get<Metrics>(TOKENS.Metrics).histogram(WHARF_HISTOGRAMS.requestDuration);
    const config = container.get<BrokerConfig>(TOKENS.Config);
    const engine = container.get<StorageEngine>(TOKENS.StorageEngine);
    const topics = container.get<TopicRegistry>(TOKENS.TopicRegistry);
    this.ackStore = await AckStateStore.open(engine, this.clock, logger);
    const definitions = await Definitions.open(engine);
    for (const name of section.vhosts) {
      const vhost = new Vhost(name, { topics, ackStore: this.ackStore, definitions, clock: this.clock, logger, segmentBytes: section.segmentBytes, counters: this.counters, replyTo: this.replyTo, deadLetterSettleTimeoutMs: section.deadLetterWorkerPublisherConfirmTimeoutMs });
      await vhost.open();
      this.vhosts.set(name, vhost);
    }
    this.watchMemory();
    const tls = container.get<TlsCredentials>(TOKENS.Tls);
    const listen = (protocol: string, port: number | 'auto', secure: boolean): TcpListener =>
      new TcpListener({
        protocol,
        host: config.host,
        port,
        maxConnections: section.maxConnections,
        budget: container.get<ConnectionBudget>(TOKENS.ConnectionBudget),
        idleTimeoutMs: 0,
        logger,
        registry: container.get<ListenerRegistry>(TOKENS.ListenerRegistry),
        ...(secure ? { tls: { credentials: tls, mode: 'tls' as const } } : {}),
      });
    this.listeners = [listen('amqp', section.port, false), ...(tls.enabled ? [listen('amqp-tls', section.tlsPort, true)] : [])];
    for (const listener of this.listeners) {
      await listener.start((socket, id, connectionLogger) => {
        const connection = new AmqpConnection(socket, id, this, connectionLogger, (closed) => this.closed(closed));
        this.connections.add(connection);
        this.counters.connectionsOpened++;
        return connection;
      });
    }
    this.watchDisk(container.get<DiskMonitor>(TOKENS.DiskMonitor));
  }

  latencyOf(method: string): HistogramSeries {
    let series = this.latencies.get(method);
    if (!series) {
      series = this.latency!.labels({ protocol: 'amqp', api: method });
      this.latencies.set(method, series);
    }
    return series;
  }

  /** The open client connections. */
  get openConnections(): ReadonlySet<AmqpConnection> {
    return this.connections;
  }

  /** RSS above which publishers are blocked (vm_memory_high_watermark). */
  get memoryLimit(): number {
    return this.settings.memoryHighWatermark || Math.floor(os.totalmem() * 0.4);
  }

  get memoryAlarmOn(): boolean {
    return this.memoryAlarm;
  }

  get diskAlarmOn(): boolean {
    return this.diskAlarm;
  }

  /** Publishers are blocked: memory above the high watermark, or the disk below its free limit. */
  get blocked(): boolean {
    return this.memoryAlarm || this.diskAlarm;
  }

  /** RabbitMQ's connection.blocked reason: `low on memory`, `low on disk`, or both joined with ` & `. */
  get blockedReason(): string {
    return `low on ${[this.memoryAlarm ? 'memory' : '', this.diskAlarm ? 'disk' : ''].filter(Boolean).join(' & ')}`;
  }

  async stop(): Promise<void> {
    if (this.memoryTimer) clearInterval(this.memoryTimer);
    this.unwatchDisk?.();
    await Promise.all(this.listeners.map((listener) => listener.stop(this.settings.drainTimeoutMs)));
    while (this.cleanups.size > 0) await Promise.all(this.cleanups);
    for (const vhost of this.vhosts.values()) await vhost.close();
    await this.ackStore?.close();
  }

  private closed(connection: AmqpConnection): void {
    this.connections.delete(connection);
    const vhost = connection.vhost;
    if (!vhost) return;
    const cleanup = vhost.connectionClosed(connection.id).catch((err: unknown) => this.logger.error({ err }, 'exclusive queue cleanup failed'));
    this.cleanups.add(cleanup);
    void cleanup.finally(() => this.cleanups.delete(cleanup));
  }

  /** The process's RSS; undefined when it cannot be read now (it is read from /proc, which takes a descriptor). */
  private residentSetSize(): number | undefined {
    try {
      return process.memoryUsage.rss();
    } catch (err) {
      this.rssUnreadable.note({ code: (err as NodeJS.ErrnoException).code });
      return undefined;
    }
  }

  /** RabbitMQ's vm_memory_high_watermark: above it, publishers are blocked (connection.blocked). */
  private watchMemory(): void {
    const limit = this.memoryLimit;
    this.memoryTimer = setInterval(() => {
      const rss = this.residentSetSize();
      if (rss === undefined) return;
      const alarm = rss > limit;
      if (alarm === this.memoryAlarm) return;
      this.memoryAlarm = alarm;
      this.logger.warn({ rss, limit }, alarm ? 'memory high watermark reached: blocking publishers' : 'memory below the watermark');
      this.blockedChanged();
    }, 500);
    this.memoryTimer.unref();
  }

  /** RabbitMQ's disk alarm: below the free-space limit publishers are blocked, and unblocked once space returns. */
  private watchDisk(disk: DiskMonitor): void {
    this.diskAlarm = disk.readOnly;
    this.unwatchDisk = disk.onChange((readOnly) => {
      this.diskAlarm = readOnly;
      this.blockedChanged();
    });
  }

  private blockedChanged(): void {
    for (const connection of this.connections) connection.setBlocked(this.blocked);
  }
}
