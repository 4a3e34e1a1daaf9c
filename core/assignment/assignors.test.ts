import { describe, expect, it } from 'vitest';
import { runAssignorConformance } from '../testing/assignor.ts';
import type { AssignmentInput, MemberAssignment } from './assignor.ts';
import { RangeAssignor } from './range-assignor.ts';
import { RoundRobinAssignor } from './round-robin-assignor.ts';
import { StickyAssignor } from './sticky-assignor.ts';

runAssignorConformance('range', () => new RangeAssignor(), { balance: 'per-topic' });
runAssignorConformance('roundrobin', () => new RoundRobinAssignor(), { balance: 'identical' });
runAssignorConformance('sticky', () => new StickyAssignor(), { balance: 'full', sticky: true });

const plain = (out: Map<string, MemberAssignment>) =>
  Object.fromEntries([...out].map(([m, topics]) => [m, [...topics].flatMap(([t, ps]) => ps.map((p) => `${t}p${p}`))]));

const group = (subs: Record<string, string[]>, partitions: Record<string, number>): AssignmentInput => ({
  members: Object.entries(subs).map(([id, subscriptions]) => ({ id, subscriptions })),
  partitionsPerTopic: new Map(Object.entries(partitions)),
});

describe("Kafka's documented examples", () => {
  it('RangeAssignor: two consumers, two topics of three partitions (RangeAssignor javadoc)', () => {
    const out = new RangeAssignor().assign(group({ C0: ['t0', 't1'], C1: ['t0', 't1'] }, { t0: 3, t1: 3 }));
    expect(plain(out)).toEqual({ C0: ['t0p0', 't0p1', 't1p0', 't1p1'], C1: ['t0p2', 't1p2'] });
  });

  it('RoundRobinAssignor: identical subscriptions (RoundRobinAssignor javadoc)', () => {
    const out = new RoundRobinAssignor().assign(group({ C0: ['t0', 't1'], C1: ['t0', 't1'] }, { t0: 3, t1: 3 }));
    expect(plain(out)).toEqual({ C0: ['t0p0', 't0p2', 't1p1'], C1: ['t0p1', 't1p0', 't1p2'] });
  });

  it('RoundRobinAssignor: unequal subscriptions (RoundRobinAssignor javadoc)', () => {
    const out = new RoundRobinAssignor().assign(group({ C0: ['t0'], C1: ['t0', 't1'], C2: ['t0', 't1', 't2'] }, { t0: 1, t1: 2, t2: 3 }));
    expect(plain(out)).toEqual({ C0: ['t0p0'], C1: ['t1p0'], C2: ['t1p1', 't2p0', 't2p1', 't2p2'] });
  });

  it('RangeAssignor: uneven split and members not subscribed to a topic (worked by hand)', () => {
    const out = new RangeAssignor().assign(group({ a: ['x', 'y'], b: ['x'], c: ['x', 'y'] }, { x: 7, y: 3 }));
    expect(plain(out)).toEqual({ a: ['x0', 'x1', 'x2', 'y0', 'y1'].map((s) => s.replace(/(\D)(\d)/, '$1p$2')), b: ['xp3', 'xp4'], c: ['xp5', 'xp6', 'yp2'] });
  });

  it('StickyAssignor: the KIP-54 example keeps what it can after a member leaves', () => {
    const first = new StickyAssignor().assign(group({ C0: ['t0', 't1', 't2', 't3'], C1: ['t0', 't1', 't2', 't3'], C2: ['t0', 't1', 't2', 't3'] }, { t0: 2, t1: 2, t2: 2, t3: 2 }));
    const owned = (m: string) => [...first.get(m)!].flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
    const second = new StickyAssignor().assign({
      members: [
        { id: 'C0', subscriptions: ['t0', 't1', 't2', 't3'], owned: owned('C0'), generation: 1 },
        { id: 'C2', subscriptions: ['t0', 't1', 't2', 't3'], owned: owned('C2'), generation: 1 },
      ],
      partitionsPerTopic: new Map([['t0', 2], ['t1', 2], ['t2', 2], ['t3', 2]]),
    });
    expect(plain(second).C0!.length).toBe(4);
    expect(plain(second).C2!.length).toBe(4);
    for (const p of plain(first).C0!) expect(plain(second).C0).toContain(p);
    for (const p of plain(first).C2!) expect(plain(second).C2).toContain(p);
  });
});
