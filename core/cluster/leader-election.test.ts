import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredPartitionState } from './cluster-model.ts';
import { assignReplicas, electPartition, preferPreferredLeader } from './leader-election.ts';

const state = (leader: number, isr: Array<[number, number]>, leaderEpoch = 5): StoredPartitionState => ({ leader, leaderEpoch, replicas: [1, 2, 3], isr });
const clean = { uncleanLeaderElection: false };

describe('electPartition', () => {
  it('leaves a partition whose leader and ISR are alive as it is', () => {
    expect(electPartition(state(1, [[1, 10], [2, 20], [3, 30]]), new Map([[1, 10], [2, 20], [3, 30]]), clean)).toBeUndefined();
  });

  it('drops a dead follower from the ISR without changing the leader or its epoch', () => {
    expect(electPartition(state(1, [[1, 10], [2, 20], [3, 30]]), new Map([[1, 10], [3, 30]]), clean)).toMatchObject({ leader: 1, leaderEpoch: 5, isr: [[1, 10], [3, 30]] });
  });

  it('drops a follower that registered again under a new epoch: it must catch up before it is in sync', () => {
    expect(electPartition(state(1, [[1, 10], [2, 20]]), new Map([[1, 10], [2, 21]]), clean)).toMatchObject({ leader: 1, isr: [[1, 10]] });
  });

  it('elects the first live in-sync replica in replica order when the leader dies, with the next epoch', () => {
    expect(electPartition(state(1, [[1, 10], [3, 30], [2, 20]]), new Map([[2, 20], [3, 30]]), clean)).toEqual({
      leader: 2,
      leaderEpoch: 6,
      replicas: [1, 2, 3],
      isr: [[3, 30], [2, 20]],
    });
  });

  it('never elects a live replica outside the ISR: the partition goes offline, keeping its ISR', () => {
    expect(electPartition(state(1, [[1, 10]]), new Map([[2, 20], [3, 30]]), clean)).toEqual({ leader: -1, leaderEpoch: 6, replicas: [1, 2, 3], isr: [[1, 10]] });
    expect(electPartition(state(-1, [[1, 10]], 6), new Map([[2, 20], [3, 30]]), clean)).toBeUndefined();
  });

  it('lets the last in-sync replica lead again when it returns, under its new epoch', () => {
    expect(electPartition(state(-1, [[1, 10]], 6), new Map([[1, 11], [2, 20]]), clean)).toMatchObject({ leader: 1, leaderEpoch: 7, isr: [[1, 11]] });
  });

  it('elects any live replica only when unclean election is on', () => {
    expect(electPartition(state(1, [[1, 10]]), new Map([[3, 30]]), { uncleanLeaderElection: true })).toMatchObject({ leader: 3, leaderEpoch: 6, isr: [[3, 30]] });
  });

  it('keeps the safety invariants for any state and any set of live brokers', () => {
    const entry = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }));
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: ([id]) => id, maxLength: 5 }), fc.integer({ min: -1, max: 5 }), fc.array(entry, { maxLength: 6 }), (isr, leader, liveList) => {
        const before: StoredPartitionState = { leader, leaderEpoch: 3, replicas: [1, 2, 3, 4, 5], isr };
        const live = new Map(liveList);
        const after = electPartition(before, live, clean) ?? before;
        if (after.leader >= 0) {
          expect(live.has(after.leader) || after === before).toBe(true);
          expect(after.isr.some(([id]) => id === after.leader) || after === before).toBe(true);
        }
        for (const [id] of after.isr) expect(before.isr.some(([i]) => i === id)).toBe(true);
        if (after.leader !== before.leader) expect(after.leaderEpoch).toBe(before.leaderEpoch + 1);
        expect(after.isr.length).toBeGreaterThanOrEqual(before.isr.length === 0 ? 0 : 1);
      }),
    );
  });
});

describe('preferPreferredLeader', () => {
  it('moves leadership back to the first replica once it is live and in sync, with the next epoch', () => {
    expect(preferPreferredLeader(state(2, [[2, 20], [1, 11]]), new Map([[1, 11], [2, 20]]))).toMatchObject({ leader: 1, leaderEpoch: 6 });
    expect(preferPreferredLeader(state(2, [[2, 20]]), new Map([[1, 11], [2, 20]]))).toBeUndefined();
    expect(preferPreferredLeader(state(2, [[2, 20], [1, 10]]), new Map([[1, 11], [2, 20]]))).toBeUndefined();
    expect(preferPreferredLeader(state(1, [[1, 10]]), new Map([[1, 10]]))).toBeUndefined();
  });
});

describe('assignReplicas', () => {
  it('rotates preferred leaders and gives each partition distinct replicas', () => {
    expect(assignReplicas([3, 1, 2], 4, 2, 0)).toEqual([
      [1, 2],
      [2, 3],
      [3, 1],
      [1, 2],
    ]);
  });
});
