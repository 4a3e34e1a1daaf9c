import type { AssignorRegistry, Clock, DiskMonitor, Logger } from '../../core/index.ts';
import type { ClientRegistry } from './clients.ts';
import type { ConsumerGroups } from './model/consumer-groups.ts';
import type { DelayedMessages } from './model/delayed-messages.ts';
import type { RocketTopics } from './model/rocket-topics.ts';
import type { Transactions } from './model/transactions.ts';
import type { RocketSettings } from './rocket-config.ts';
import type { RocketTraffic } from './rocket-traffic.ts';

/** What the RPC handlers share. */
export interface RocketContext {
  readonly settings: RocketSettings;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly topics: RocketTopics;
  readonly groups: ConsumerGroups;
  readonly clients: ClientRegistry;
  readonly delayed: DelayedMessages;
  readonly transactions: Transactions;
  readonly assignors: AssignorRegistry;
  /** Read-only while the disk is below its free-space limit: sends are refused. */
  readonly disk: DiskMonitor;
  /** host:port this broker reports as a message's store host. */
  readonly storeHost: string;
  /** Messages and bytes in per topic, out per group and topic, for the metrics registry. */
  readonly traffic: RocketTraffic;
}

/** The calling client, from the request metadata. */
export interface Caller {
  readonly clientId: string;
  readonly signal: AbortSignal;
}

export interface WireResource {
  name?: string;
  resourceNamespace?: string;
}

export interface WireEndpoints {
  scheme?: string;
  addresses?: Array<{ host: string; port: number }>;
}
