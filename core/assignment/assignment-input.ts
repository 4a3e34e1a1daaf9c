import type { AssignmentInput, AssignmentMember, MemberAssignment, TopicPartition } from './assignor.ts';

/** Members sorted by id, each with its subscriptions as a sorted set of topics that exist. */
export interface NormalizedGroup {
  members: Array<{ id: string; topics: string[]; owned: TopicPartition[]; generation: number }>;
  /** Topics someone subscribes to, with at least one partition, sorted. */
  topics: string[];
  partitionsPerTopic: ReadonlyMap<string, number>;
}

/** Sorts everything so that no assignor depends on the order of its inputs. */
export function normalize(input: AssignmentInput): NormalizedGroup {
  const members = [...input.members]
    .sort((a, b) => compare(a.id, b.id))
    .map((m: AssignmentMember) => ({
      id: m.id,
      topics: [...new Set(m.subscriptions)].filter((t) => (input.partitionsPerTopic.get(t) ?? 0) > 0).sort(compare),
      owned: [...(m.owned ?? [])].sort(compareTopicPartitions),
      generation: m.generation ?? -1,
    }));
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort(compare);
  return { members, topics, partitionsPerTopic: input.partitionsPerTopic };
}

/** The output shape: every member present, topics with sorted partitions. */
export function toAssignment(members: readonly { id: string }[], assigned: ReadonlyMap<string, Map<string, number[]>>): Map<string, MemberAssignment> {
  const result = new Map<string, MemberAssignment>();
  for (const { id } of members) {
    const topics = assigned.get(id) ?? new Map<string, number[]>();
    for (const partitions of topics.values()) partitions.sort((a, b) => a - b);
    result.set(id, topics);
  }
  return result;
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  return compare(a.topic, b.topic) || a.partition - b.partition;
}
