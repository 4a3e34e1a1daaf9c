import type { Clock, ValuesOf } from '../../core/index.ts';
import type { amqpConfigFields } from './amqp-config.ts';
import type { UserDirectory } from './auth.ts';
import type { Vhost } from './model/vhost.ts';

export type AmqpSettings = ValuesOf<typeof amqpConfigFields>;

/** What every connection shares. */
export interface AmqpContext {
  readonly settings: AmqpSettings;
  readonly vhosts: ReadonlyMap<string, Vhost>;
  readonly users: UserDirectory;
  readonly clock: Clock;
  /** Publishers are blocked (memory above the high watermark, or the disk below its free limit). */
  readonly blocked: boolean;
  /** Why, in RabbitMQ's words for connection.blocked (`low on disk`). */
  readonly blockedReason: string;
}

export const SERVER_VERSION = '3.10.8';
