import type { Clock, HistogramSeries, ValuesOf } from '../../core/index.ts';
import type { amqpConfigFields } from './amqp-config.ts';
import type { AmqpCounters } from './amqp-stats.ts';
import type { UserDirectory } from './auth.ts';
import type { Vhost } from './model/vhost.ts';

export type AmqpSettings = ValuesOf<typeof amqpConfigFields>;

/** What every connection shares. */
export interface AmqpContext {
  readonly settings: AmqpSettings;
  readonly vhosts: ReadonlyMap<string, Vhost>;
  readonly users: UserDirectory;
  readonly clock: Clock;
  readonly counters: AmqpCounters;
  /** The request-latency series of a method that waits on storage (declare, bind, delete, purge, get). */
  latencyOf(method: string): HistogramSeries;
  /** Publishers are blocked (memory above the high watermark, or the disk below its free limit). */
  readonly blocked: boolean;
  /** Why, in RabbitMQ's words for connection.blocked (`low on disk`). */
  readonly blockedReason: string;
}

export const SERVER_VERSION = '3.10.8';
