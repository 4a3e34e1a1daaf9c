import { injectable } from 'inversify';
import { normalize, toAssignment, type NormalizedGroup } from './assignment-input.ts';
import type { AssignmentInput, Assignor, MemberAssignment } from './assignor.ts';

/** Partitions are numbered 0..n-1 in (topic, partition) order; members 0..m-1 in id order. */
interface Indexed {
  group: NormalizedGroup;
  topicOf: Int32Array;
  partitionOf: Int32Array;
  /** subscribers[topic index] = member indexes, ascending. */
  subscribers: number[][];
  /** claimedBy[p] = the member that keeps p from its previous assignment, or -1. */
  claimedBy: Int32Array;
}

/**
 * Balance first, then stickiness: every member ends within one partition of the others when
 * subscriptions are identical (as close as subscriptions allow otherwise), and keeps as many of the
 * partitions it owned as that balance permits. A partition claimed by two members goes to the claim of
 * the newer generation; claims from the same generation cancel out.
 */
@injectable()
export class StickyAssignor implements Assignor {
  readonly name = 'sticky';

  assign(input: AssignmentInput): Map<string, MemberAssignment> {
    const indexed = index(normalize(input));
    const owner = identicalSubscriptions(indexed.group) ? assignEqual(indexed) : assignGeneral(indexed);
    const assigned = new Map<string, Map<string, number[]>>();
    const { group, topicOf, partitionOf } = indexed;
    for (let p = 0; p < owner.length; p++) {
      const id = group.members[owner[p]!]!.id;
      const topic = group.topics[topicOf[p]!]!;
      let topics = assigned.get(id);
      if (!topics) assigned.set(id, (topics = new Map()));
      let list = topics.get(topic);
      if (!list) topics.set(topic, (list = []));
      list.push(partitionOf[p]!);
    }
    return toAssignment(group.members, assigned);
  }
}

function index(group: NormalizedGroup): Indexed {
  const topicIndex = new Map(group.topics.map((t, i) => [t, i]));
  const firstPartition: number[] = [];
  let total = 0;
  for (const topic of group.topics) {
    firstPartition.push(total);
    total += group.partitionsPerTopic.get(topic)!;
  }
  const topicOf = new Int32Array(total);
  const partitionOf = new Int32Array(total);
  group.topics.forEach((topic, t) => {
    const count = group.partitionsPerTopic.get(topic)!;
    for (let k = 0; k < count; k++) {
      topicOf[firstPartition[t]! + k] = t;
      partitionOf[firstPartition[t]! + k] = k;
    }
  });
  const subscribers: number[][] = group.topics.map(() => []);
  group.members.forEach((member, m) => member.topics.forEach((topic) => subscribers[topicIndex.get(topic)!]!.push(m)));

  const claimedBy = new Int32Array(total).fill(-1);
  const claimGeneration = new Float64Array(total).fill(-Infinity);
  const contested = new Uint8Array(total);
  group.members.forEach((member, m) => {
    const subscribed = new Set(member.topics);
    for (const { topic, partition } of member.owned) {
      const t = topicIndex.get(topic);
      if (t === undefined || !subscribed.has(topic) || partition < 0 || partition >= group.partitionsPerTopic.get(topic)!) continue;
      const p = firstPartition[t]! + partition;
      if (claimedBy[p] === m) continue;
      if (member.generation > claimGeneration[p]!) {
        claimedBy[p] = m;
        claimGeneration[p] = member.generation;
        contested[p] = 0;
      } else if (member.generation === claimGeneration[p]) contested[p] = 1;
    }
  });
  for (let p = 0; p < total; p++) if (contested[p]) claimedBy[p] = -1;
  return { group, topicOf, partitionOf, subscribers, claimedBy };
}

function identicalSubscriptions(group: NormalizedGroup): boolean {
  const first = group.members[0]?.topics.join('\u0000');
  return group.members.every((m) => m.topics.join('\u0000') === first);
}

/** Identical subscriptions: quotas of floor(n/m) or ceil(n/m); members keep claims up to their quota. */
function assignEqual({ group, claimedBy }: Indexed): Int32Array {
  const total = claimedBy.length;
  const memberCount = group.members.length;
  const owner = new Int32Array(total).fill(-1);
  if (memberCount === 0 || total === 0) return owner;
  const minQuota = Math.floor(total / memberCount);
  let maxSlots = total % memberCount;
  const claims: number[][] = group.members.map(() => []);
  for (let p = 0; p < total; p++) if (claimedBy[p]! >= 0) claims[claimedBy[p]!]!.push(p);
  const byClaims = group.members.map((_, m) => m).sort((a, b) => claims[b]!.length - claims[a]!.length || a - b);
  const quota = new Int32Array(memberCount).fill(minQuota);
  for (const m of byClaims) {
    if (maxSlots === 0 || claims[m]!.length <= minQuota) break;
    quota[m] = minQuota + 1;
    maxSlots--;
  }
  const count = new Int32Array(memberCount);
  for (let m = 0; m < memberCount; m++) {
    for (const p of claims[m]!.slice(0, quota[m]!)) owner[p] = m;
    count[m] = Math.min(claims[m]!.length, quota[m]!);
  }
  let p = 0;
  const nextFree = (): number => {
    while (owner[p] !== -1) p++;
    return p;
  };
  for (let m = 0; m < memberCount; m++) {
    while (count[m]! < quota[m]!) {
      owner[nextFree()] = m;
      count[m]!++;
    }
  }
  for (let m = 0; m < memberCount && maxSlots > 0; m++) {
    if (count[m] === minQuota) {
      owner[nextFree()] = m;
      count[m]!++;
      maxSlots--;
    }
  }
  return owner;
}

/**
 * Different subscriptions: keep every valid claim, give each unclaimed partition (most constrained
 * first) to its least loaded subscriber, then move partitions from a member to a subscriber holding at
 * least two fewer until no such move is left.
 */
function assignGeneral({ group, topicOf, subscribers, claimedBy }: Indexed): Int32Array {
  const total = claimedBy.length;
  const owner = Int32Array.from(claimedBy);
  const count = new Int32Array(group.members.length);
  for (let p = 0; p < total; p++) if (owner[p]! >= 0) count[owner[p]!]!++;
  const unclaimed: number[] = [];
  for (let p = 0; p < total; p++) if (owner[p] === -1) unclaimed.push(p);
  unclaimed.sort((a, b) => subscribers[topicOf[a]!]!.length - subscribers[topicOf[b]!]!.length || a - b);
  const leastLoaded = (candidates: readonly number[]): number => {
    let best = candidates[0]!;
    for (const m of candidates) if (count[m]! < count[best]!) best = m;
    return best;
  };
  for (const p of unclaimed) {
    const m = leastLoaded(subscribers[topicOf[p]!]!);
    owner[p] = m;
    count[m]!++;
  }
  for (let moved = true; moved; ) {
    moved = false;
    const notKept: number[] = [];
    const kept: number[] = [];
    for (let p = 0; p < total; p++) (owner[p] === claimedBy[p] ? kept : notKept).push(p);
    for (const p of [...notKept, ...kept]) {
      const from = owner[p]!;
      const to = leastLoaded(subscribers[topicOf[p]!]!);
      if (count[to]! <= count[from]! - 2) {
        owner[p] = to;
        count[from]!--;
        count[to]!++;
        moved = true;
      }
    }
  }
  return owner;
}

