import type { IsrEntry, StoredPartitionState } from './cluster-model.ts';

export interface ElectionOptions {
  /** Elect a live replica outside the ISR when no in-sync replica is alive (may lose acknowledged data). */
  readonly uncleanLeaderElection: boolean;
}

/**
 * The controller's rule for one partition, given the live brokers (id -> broker epoch): the state it
 * should have, or undefined when it is right as it is. An ISR entry counts only while its broker is
 * registered under the same epoch (a restarted broker must catch up again, KIP-903); the leader comes
 * from the live ISR in replica order; with none alive the partition goes offline keeping its ISR, so
 * that the first of those replicas to return leads again (it holds every acknowledged record).
 */
export function electPartition(state: StoredPartitionState, live: ReadonlyMap<number, number>, options: ElectionOptions): StoredPartitionState | undefined {
  const alive = ([id, epoch]: IsrEntry): boolean => live.get(id) === epoch;
  const isrAlive = state.isr.filter(alive);
  if (state.leader >= 0 && isrAlive.some(([id]) => id === state.leader)) {
    return isrAlive.length === state.isr.length ? undefined : { ...state, isr: isrAlive };
  }
  const nextEpoch = state.leaderEpoch + 1;
  const candidate = state.replicas.find((r) => isrAlive.some(([id]) => id === r));
  if (candidate !== undefined) return { ...state, leader: candidate, leaderEpoch: nextEpoch, isr: isrAlive };
  const returning = state.replicas.find((r) => live.has(r) && state.isr.some(([id]) => id === r));
  if (returning !== undefined) return { ...state, leader: returning, leaderEpoch: nextEpoch, isr: [[returning, live.get(returning)!]] };
  if (options.uncleanLeaderElection) {
    const any = state.replicas.find((r) => live.has(r));
    if (any !== undefined) return { ...state, leader: any, leaderEpoch: nextEpoch, isr: [[any, live.get(any)!]] };
  }
  return state.leader === -1 ? undefined : { ...state, leader: -1, leaderEpoch: nextEpoch };
}

/**
 * Preferred-leader election (Kafka's auto.leader.rebalance): a partition led by another replica while
 * its first replica is live and in sync moves back to it, with the next epoch. Undefined when nothing moves.
 */
export function preferPreferredLeader(state: StoredPartitionState, live: ReadonlyMap<number, number>): StoredPartitionState | undefined {
  const preferred = state.replicas[0];
  if (preferred === undefined || state.leader === preferred || state.leader < 0) return undefined;
  const entry = state.isr.find(([id]) => id === preferred);
  if (!entry || live.get(preferred) !== entry[1]) return undefined;
  return { ...state, leader: preferred, leaderEpoch: state.leaderEpoch + 1 };
}

/**
 * Spreads `partitions` new partitions' replicas over the live brokers, Kafka-style: each partition's
 * preferred leader rotates from `startIndex`, its followers are the next brokers in order.
 */
export function assignReplicas(brokerIds: readonly number[], partitions: number, replicationFactor: number, startIndex: number): number[][] {
  const ids = [...brokerIds].sort((a, b) => a - b);
  return Array.from({ length: partitions }, (_, p) => Array.from({ length: replicationFactor }, (_, r) => ids[(startIndex + p + r) % ids.length]!));
}
