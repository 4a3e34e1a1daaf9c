import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AssignmentInput, AssignmentMember, Assignor, MemberAssignment, TopicPartition } from '../assignment/assignor.ts';

export interface AssignorConformanceOptions {
  /**
   * `full`: identical subscriptions give sizes within one, and no member holds a partition one of its
   * topic's subscribers with two fewer could take. `identical`: only the first half. `per-topic`: within
   * one per topic among its subscribers (Range). `none`: validity only.
   */
  balance: 'full' | 'identical' | 'per-topic' | 'none';
  /** Check minimal movement on a join or leave and generation-resolved claims. */
  sticky?: boolean;
}

type Output = Map<string, MemberAssignment>;

const owners = (out: Output): Map<string, string> => {
  const map = new Map<string, string>();
  for (const [member, topics] of out) for (const [topic, partitions] of topics) for (const p of partitions) map.set(`${topic}:${p}`, member);
  return map;
};

const sizeOf = (a: MemberAssignment | undefined): number => [...(a?.values() ?? [])].reduce((n, ps) => n + ps.length, 0);

const ownedOf = (a: MemberAssignment | undefined): TopicPartition[] => [...(a ?? new Map<string, readonly number[]>())].flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));

function serialize(out: Output): string {
  return JSON.stringify([...out].sort(([a], [b]) => (a < b ? -1 : 1)).map(([m, topics]) => [m, [...topics].sort(([a], [b]) => (a < b ? -1 : 1))]));
}

/** Every invariant that holds for any assignor, plus the balance the options promise. */
export function checkAssignment(input: AssignmentInput, out: Output, options: AssignorConformanceOptions): void {
  expect(new Set(out.keys())).toEqual(new Set(input.members.map((m) => m.id)));
  const subscribers = new Map<string, Set<string>>();
  for (const m of input.members) for (const t of m.subscriptions) subscribers.set(t, (subscribers.get(t) ?? new Set()).add(m.id));
  const seen = new Set<string>();
  for (const [member, topics] of out) {
    for (const [topic, partitions] of topics) {
      expect(subscribers.get(topic)?.has(member), `${member} got ${topic} without subscribing`).toBe(true);
      expect([...partitions].sort((a, b) => a - b)).toEqual(partitions);
      for (const p of partitions) {
        expect(p >= 0 && p < (input.partitionsPerTopic.get(topic) ?? 0), `${topic}:${p} does not exist`).toBe(true);
        expect(seen.has(`${topic}:${p}`), `${topic}:${p} assigned twice`).toBe(false);
        seen.add(`${topic}:${p}`);
      }
    }
  }
  for (const [topic, members] of subscribers) {
    if (members.size === 0) continue;
    for (let p = 0; p < (input.partitionsPerTopic.get(topic) ?? 0); p++) expect(seen.has(`${topic}:${p}`), `${topic}:${p} unassigned`).toBe(true);
  }
  const identical = input.members.every((m) => [...new Set(m.subscriptions)].sort().join() === [...new Set(input.members[0]!.subscriptions)].sort().join());
  if (options.balance === 'per-topic') {
    for (const [topic, members] of subscribers) {
      const counts = [...members].map((m) => out.get(m)?.get(topic)?.length ?? 0);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
    return;
  }
  if (options.balance === 'none') return;
  const sizes = new Map(input.members.map((m) => [m.id, sizeOf(out.get(m.id))]));
  if (identical && input.members.length > 0) expect(Math.max(...sizes.values()) - Math.min(...sizes.values())).toBeLessThanOrEqual(1);
  if (options.balance === 'full') {
    const smallest = new Map([...subscribers].map(([topic, members]) => [topic, Math.min(...[...members].map((m) => sizes.get(m)!))]));
    for (const [member, topics] of out) {
      for (const topic of topics.keys()) {
        if (smallest.get(topic)! <= sizes.get(member)! - 2) expect.fail(`a subscriber of ${topic} with ${smallest.get(topic)} partitions could take one from ${member} (${sizes.get(member)})`);
      }
    }
  }
}

/** The fewest partitions that must move when identical-subscription members keep what their new quota allows. */
export function minimalMoves(previous: Output, staying: readonly string[], total: number): number {
  if (staying.length === 0) return 0;
  const min = Math.floor(total / staying.length);
  let maxSlots = total % staying.length;
  const owned = staying.map((m) => sizeOf(previous.get(m))).sort((a, b) => b - a);
  let kept = 0;
  for (const count of owned) {
    const quota = maxSlots > 0 && count > min ? (maxSlots--, min + 1) : min;
    kept += Math.min(count, quota);
  }
  return total - kept;
}

const topicArb = fc.integer({ min: 1, max: 6 }).chain((n) => fc.array(fc.integer({ min: 0, max: 12 }), { minLength: n, maxLength: n }));

const groupArb: fc.Arbitrary<AssignmentInput> = topicArb.chain((counts) => {
  const topics = counts.map((_, i) => `t${i}`);
  const member = fc.record({ id: fc.string({ minLength: 1, maxLength: 6 }), subscriptions: fc.subarray([...topics, 'missing']) });
  return fc.uniqueArray(member, { maxLength: 12, selector: (m) => m.id }).map((members) => ({
    members,
    partitionsPerTopic: new Map(topics.map((t, i) => [t, counts[i]!])),
  }));
});

const identicalGroupArb = fc
  .record({ members: fc.integer({ min: 1, max: 40 }), topics: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }) })
  .map(({ members, topics }) => ({
    members: Array.from({ length: members }, (_, i) => ({ id: `m${String(i).padStart(3, '0')}`, subscriptions: topics.map((_, t) => `t${t}`) })),
    partitionsPerTopic: new Map(topics.map((n, t) => [`t${t}`, n])),
  }));

function shuffled<T>(values: readonly T[], seed: number): T[] {
  const out = [...values];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function reorder(input: AssignmentInput, seed: number): AssignmentInput {
  return {
    members: shuffled(input.members, seed).map((m, i) => ({ ...m, subscriptions: shuffled(m.subscriptions, seed + i), owned: m.owned && shuffled(m.owned, seed * 7 + i) })),
    partitionsPerTopic: new Map(shuffled([...input.partitionsPerTopic], seed * 3)),
  };
}

/**
 * The conformance suite every Assignor runs (Kafka's AbstractStickyAssignorTest idea): validity,
 * balance, determinism and input-order independence, edge cases, and for sticky assignors, movement.
 */
export function runAssignorConformance(name: string, create: () => Assignor, options: AssignorConformanceOptions): void {
  describe(`assignor conformance: ${name}`, () => {
    it('assigns every subscribed partition exactly once, only to subscribers, with the promised balance', () => {
      const assignor = create();
      fc.assert(fc.property(groupArb, (input) => checkAssignment(input, assignor.assign(input), options)), { numRuns: 300 });
      fc.assert(fc.property(identicalGroupArb, (input) => checkAssignment(input, assignor.assign(input), options)), { numRuns: 100 });
    });

    it('is deterministic and independent of input order', () => {
      const assignor = create();
      fc.assert(
        fc.property(groupArb, fc.integer(), (input, seed) => {
          const withOwned = { ...input, members: input.members.map((m, i) => ({ ...m, owned: i % 2 ? [{ topic: 't0', partition: i % 3 }] : [], generation: i % 3 })) };
          expect(serialize(create().assign(reorder(withOwned, seed)))).toBe(serialize(assignor.assign(withOwned)));
        }),
        { numRuns: 200 },
      );
    });

    it('handles empty and single-member groups and topics nobody subscribes to', () => {
      const assignor = create();
      expect(assignor.assign({ members: [], partitionsPerTopic: new Map([['t', 3]]) }).size).toBe(0);
      const single = assignor.assign({ members: [{ id: 'only', subscriptions: ['a', 'b', 'gone'] }], partitionsPerTopic: new Map([['a', 2], ['b', 1], ['c', 5], ['empty', 0]]) });
      expect([...single.get('only')!].sort()).toEqual([['a', [0, 1]], ['b', [0]]]);
      const none = assignor.assign({ members: [{ id: 'x', subscriptions: [] }], partitionsPerTopic: new Map([['c', 5]]) });
      expect(sizeOf(none.get('x'))).toBe(0);
    });

    it('stays valid for hundreds of members and thousands of partitions', () => {
      const assignor = create();
      for (const [members, topics, partitions] of [[300, 1, 3000], [200, 20, 150], [500, 3, 700]] as const) {
        const input: AssignmentInput = {
          members: Array.from({ length: members }, (_, i) => ({
            id: `member-${i}`,
            subscriptions: Array.from({ length: topics }, (_, t) => `t${t}`).filter((_, t) => topics === 1 || (i + t) % 3 !== 0),
          })),
          partitionsPerTopic: new Map(Array.from({ length: topics }, (_, t) => [`t${t}`, partitions])),
        };
        checkAssignment(input, assignor.assign(input), options);
      }
    });

    if (!options.sticky) return;

    it('moves no more partitions than balance requires when one member joins or leaves', () => {
      const assignor = create();
      fc.assert(
        fc.property(identicalGroupArb, fc.boolean(), fc.nat(), (input, join, pick) => {
          const before = assignor.assign(input);
          const withOwned = (members: readonly AssignmentMember[]) => members.map((m) => ({ ...m, owned: ownedOf(before.get(m.id)), generation: 1 }));
          const leaving = input.members[pick % input.members.length]!.id;
          const members = join ? [...withOwned(input.members), { id: 'zz-new', subscriptions: input.members[0]!.subscriptions }] : withOwned(input.members).filter((m) => m.id !== leaving);
          const next: AssignmentInput = { members, partitionsPerTopic: input.partitionsPerTopic };
          const after = assignor.assign(next);
          checkAssignment(next, after, options);
          const total = [...input.partitionsPerTopic.values()].reduce((a, b) => a + b, 0);
          const previous = owners(before);
          let moved = 0;
          for (const [partition, owner] of owners(after)) if (previous.get(partition) !== owner) moved++;
          expect(moved).toBe(minimalMoves(before, members.map((m) => m.id), total));
        }),
        { numRuns: 200 },
      );
    });

    it('keeps owned partitions under different subscriptions when balance allows', () => {
      const assignor = create();
      const input: AssignmentInput = {
        members: [
          { id: 'a', subscriptions: ['x', 'y'], owned: [{ topic: 'x', partition: 0 }, { topic: 'y', partition: 1 }], generation: 4 },
          { id: 'b', subscriptions: ['x'], owned: [{ topic: 'x', partition: 1 }], generation: 4 },
          { id: 'c', subscriptions: ['y'], owned: [{ topic: 'y', partition: 0 }], generation: 4 },
        ],
        partitionsPerTopic: new Map([['x', 2], ['y', 2]]),
      };
      const out = assignor.assign(input);
      checkAssignment(input, out, options);
      expect(ownedOf(out.get('a'))).toEqual([{ topic: 'x', partition: 0 }, { topic: 'y', partition: 1 }]);
      expect(ownedOf(out.get('b'))).toEqual([{ topic: 'x', partition: 1 }]);
    });

    it('resolves a partition claimed by two members in favour of the newer generation', () => {
      const assignor = create();
      const input: AssignmentInput = {
        members: [
          { id: 'old', subscriptions: ['t'], owned: [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }], generation: 1 },
          { id: 'new', subscriptions: ['t'], owned: [{ topic: 't', partition: 1 }], generation: 2 },
        ],
        partitionsPerTopic: new Map([['t', 2]]),
      };
      const out = assignor.assign(input);
      expect(out.get('new')!.get('t')).toEqual([1]);
      expect(out.get('old')!.get('t')).toEqual([0]);
    });
  });
}
