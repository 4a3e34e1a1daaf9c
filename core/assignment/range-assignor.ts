import { injectable } from 'inversify';
import { normalize, toAssignment } from './assignment-input.ts';
import type { AssignmentInput, Assignor, MemberAssignment } from './assignor.ts';

/**
 * Kafka's RangeAssignor: per topic, subscribers sorted by member id take contiguous ranges of the
 * sorted partitions; the first `partitions % subscribers` take one extra.
 */
@injectable()
export class RangeAssignor implements Assignor {
  readonly name = 'range';

  assign(input: AssignmentInput): Map<string, MemberAssignment> {
    const group = normalize(input);
    const assigned = new Map<string, Map<string, number[]>>();
    for (const topic of group.topics) {
      const subscribers = group.members.filter((m) => m.topics.includes(topic));
      const partitions = group.partitionsPerTopic.get(topic)!;
      const each = Math.floor(partitions / subscribers.length);
      const extra = partitions % subscribers.length;
      subscribers.forEach((member, i) => {
        const start = i * each + Math.min(i, extra);
        const length = each + (i < extra ? 1 : 0);
        if (length === 0) return;
        let topics = assigned.get(member.id);
        if (!topics) assigned.set(member.id, (topics = new Map()));
        topics.set(topic, Array.from({ length }, (_, k) => start + k));
      });
    }
    return toAssignment(group.members, assigned);
  }
}
