import type { LogConfig } from '../storage/log-config.ts';

/** What a replicator sees of a local log. */
export interface ReplicaLog {
  readonly topic: string;
  readonly partition: number;
  readonly config: Readonly<LogConfig>;
  readonly logEndOffset: number;
  /** Resolves once every offset below `endOffset` is durable under the store (group commit). */
  syncTo(endOffset: number): Promise<void>;
  /** Moves the high watermark forward to `offset` (never backward) and wakes watchers. */
  advanceHighWatermark(offset: number): void;
}

/**
 * Decides when an appended range counts as committed, and moves the high watermark when it does.
 * Single node: once the log's flush policy is met. A cluster replicator (leader/follower fetch,
 * ISR, coordinated through etcd) replaces it without protocols noticing: they only await append.
 */
export interface Replicator {
  readonly name: string;
  /** Called after a local append whose last offset is `endOffset - 1`; resolves when it is committed. */
  commit(log: ReplicaLog, endOffset: number): Promise<void>;
}
