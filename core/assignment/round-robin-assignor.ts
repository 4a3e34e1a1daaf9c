import { injectable } from 'inversify';
import { normalize, toAssignment } from './assignment-input.ts';
import type { AssignmentInput, Assignor, MemberAssignment } from './assignor.ts';

/**
 * Kafka's RoundRobinAssignor: every subscribed partition, sorted by topic then partition, dealt to the
 * members sorted by id in a circle, skipping members not subscribed to the partition's topic.
 */
@injectable()
export class RoundRobinAssignor implements Assignor {
  readonly name = 'roundrobin';

  assign(input: AssignmentInput): Map<string, MemberAssignment> {
    const group = normalize(input);
    const assigned = new Map<string, Map<string, number[]>>();
    const members = group.members;
    const subscribed = members.map((m) => new Set(m.topics));
    let next = 0;
    for (const topic of group.topics) {
      const partitions = group.partitionsPerTopic.get(topic)!;
      for (let partition = 0; partition < partitions; partition++) {
        while (!subscribed[next]!.has(topic)) next = (next + 1) % members.length;
        const id = members[next]!.id;
        let topics = assigned.get(id);
        if (!topics) assigned.set(id, (topics = new Map()));
        let list = topics.get(topic);
        if (!list) topics.set(topic, (list = []));
        list.push(partition);
        next = (next + 1) % members.length;
      }
    }
    return toAssignment(members, assigned);
  }
}
