import type { BrokerError } from '../errors.ts';
import type { LeaderEpochCache } from '../storage/leader-epoch-cache.ts';
import type { LogConfig } from '../storage/log-config.ts';
import type { Acks, PartitionLog } from '../storage/partition-log.ts';

/** A local log as replication sees it: the partition log plus what leaders and followers need. */
export interface ReplicaLog extends PartitionLog {
  readonly config: Readonly<LogConfig>;
  /** Every offset below this is durable under the store. */
  readonly durableEnd: number;
  readonly leaderEpochs: LeaderEpochCache;
  /** Resolves once every offset below `endOffset` is durable under the store (group commit). */
  syncTo(endOffset: number): Promise<void>;
  /** Moves the high watermark forward to `offset` (never backward) and wakes watchers. */
  advanceHighWatermark(offset: number): void;
  /** Appends a leader's batches as they are; resolves once durable under the flush policy. */
  appendReplicated(batches: Buffer): Promise<void>;
  /** Starts leading under `epoch` (recorded at the log end; stamped into every batch appended from now on). */
  becomeLeader(epoch: number): Promise<void>;
  /** Empties the log and starts it at `offset`. */
  resetTo(offset: number): Promise<void>;
}

/**
 * Decides when an appended range counts as committed, and moves the high watermark when it does.
 * Single node: once the log's flush policy is met. The cluster replicator (leader/follower fetch,
 * ISR, coordinated through etcd) replaces it without protocols noticing: they only await append.
 */
export interface Replicator {
  readonly name: string;
  /** Why this log must not take an append now (not the leader; fewer in-sync replicas than required), or undefined. */
  checkAppend(log: ReplicaLog, acks: Acks): BrokerError | undefined;
  /** Called after a local append whose last offset is `endOffset - 1`; resolves when it is committed as `acks` asks. */
  commit(log: ReplicaLog, endOffset: number, acks: Acks): Promise<void>;
}
