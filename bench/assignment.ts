/**
 * Assignor speed at 1,000 members x 10,000 partitions (one topic, and 100 topics of 100), and
 * sticky reassignment after one member leaves, with partitions moved vs the minimum. Each figure is
 * printed beside the time to build and sort the same input in the same run.
 */
import { RangeAssignor, RoundRobinAssignor, StickyAssignor, type AssignmentInput, type Assignor, type MemberAssignment } from '../core/index.ts';
import { minimalMoves } from '../core/testing/assignor.ts';
import { fmt, median, printTable } from './harness.ts';

const MEMBERS = 1000;
const PARTITIONS = 10_000;
const RUNS = 5;

function input(topics: number): AssignmentInput {
  const names = Array.from({ length: topics }, (_, t) => `topic-${t}`);
  return {
    members: Array.from({ length: MEMBERS }, (_, i) => ({ id: `consumer-${String(i).padStart(4, '0')}-${(i * 7919) % 1000}`, subscriptions: names })),
    partitionsPerTopic: new Map(names.map((n) => [n, PARTITIONS / topics])),
  };
}

/** The reference: building the input and sorting every partition id, the least any assignor must do. */
function reference(topics: number): number {
  const start = performance.now();
  const built = input(topics);
  const ids: string[] = [];
  for (const [topic, count] of built.partitionsPerTopic) for (let p = 0; p < count; p++) ids.push(`${topic}:${p}`);
  ids.sort();
  [...built.members].sort((a, b) => (a.id < b.id ? -1 : 1));
  return performance.now() - start;
}

function time(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

const owned = (a: MemberAssignment | undefined) => [...(a ?? new Map<string, readonly number[]>())].flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));

const rows: string[][] = [];
for (const topics of [1, 100]) {
  const ref = median(Array.from({ length: RUNS }, () => reference(topics)));
  for (const assignor of [new RangeAssignor(), new RoundRobinAssignor(), new StickyAssignor()] as Assignor[]) {
    const data = input(topics);
    const ms = median(Array.from({ length: RUNS }, () => time(() => assignor.assign(data))));
    rows.push([`${assignor.name}, ${topics} topic${topics > 1 ? 's' : ''}`, `${fmt(ms, 1)} ms`, `${fmt(ref, 1)} ms`, `${(ms / ref).toFixed(1)}×`, ms < 1000 ? 'yes' : 'NO', '']);
  }
  const sticky = new StickyAssignor();
  const data = input(topics);
  const before = sticky.assign(data);
  const leaving = data.members[MEMBERS >> 1]!.id;
  const remaining = data.members.filter((m) => m.id !== leaving).map((m) => ({ ...m, owned: owned(before.get(m.id)), generation: 1 }));
  const next = { members: remaining, partitionsPerTopic: data.partitionsPerTopic };
  let after = before;
  const ms = median(Array.from({ length: RUNS }, () => time(() => (after = sticky.assign(next)))));
  const ownerBefore = new Map<string, string>();
  for (const [m, a] of before) for (const tp of owned(a)) ownerBefore.set(`${tp.topic}:${tp.partition}`, m);
  let moved = 0;
  for (const [m, a] of after) for (const tp of owned(a)) if (ownerBefore.get(`${tp.topic}:${tp.partition}`) !== m) moved++;
  const minimum = minimalMoves(before, remaining.map((m) => m.id), PARTITIONS);
  rows.push([`sticky after one leaves, ${topics} topic${topics > 1 ? 's' : ''}`, `${fmt(ms, 1)} ms`, `${fmt(ref, 1)} ms`, `${(ms / ref).toFixed(1)}×`, ms < 1000 ? 'yes' : 'NO', `${moved} moved / ${minimum} minimum`]);
}

{
  const topics = Array.from({ length: 100 }, (_, t) => `topic-${t}`);
  const mixed: AssignmentInput = {
    members: Array.from({ length: MEMBERS }, (_, i) => ({ id: `consumer-${i}`, subscriptions: topics.filter((_, t) => (i * 31 + t * 17) % 3 !== 0) })),
    partitionsPerTopic: new Map(topics.map((n) => [n, PARTITIONS / 100])),
  };
  const ref = median(Array.from({ length: RUNS }, () => reference(100)));
  const ms = median(Array.from({ length: RUNS }, () => time(() => new StickyAssignor().assign(mixed))));
  rows.push(['sticky, 100 topics, mixed subscriptions', `${fmt(ms, 1)} ms`, `${fmt(ref, 1)} ms`, `${(ms / ref).toFixed(1)}×`, ms < 1000 ? 'yes' : 'NO', '']);
}

printTable(
  `assignors, ${fmt(MEMBERS)} members x ${fmt(PARTITIONS)} partitions, median of ${RUNS} (reference: build the input and sort all partition ids)`,
  ['case', 'time', 'reference', 'ratio', '< 1 s', 'stickiness'],
  rows,
);
