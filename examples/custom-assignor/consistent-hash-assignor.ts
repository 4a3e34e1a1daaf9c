import { createHash } from 'node:crypto';
import type { AssignmentInput, Assignor, MemberAssignment } from '../../core/index.ts';

const VIRTUAL_NODES = 10;

function point(text: string): number {
  return createHash('md5').update(text).digest().readUInt32BE(0);
}

/**
 * A user-written assignor: RocketMQ's AllocateMessageQueueConsistentHash idea. Each member owns ten
 * points on an MD5 ring; a partition goes to the first member point clockwise from its own hash among
 * the members subscribed to its topic. Membership changes move few partitions; balance is not promised.
 */
export class ConsistentHashAssignor implements Assignor {
  readonly name = 'consistent-hash';

  assign({ members, partitionsPerTopic }: AssignmentInput): Map<string, MemberAssignment> {
    const result = new Map<string, Map<string, number[]>>(members.map((m) => [m.id, new Map()]));
    const topics = [...new Set(members.flatMap((m) => m.subscriptions))].sort();
    for (const topic of topics) {
      const ring = members
        .filter((m) => m.subscriptions.includes(topic))
        .flatMap((m) => Array.from({ length: VIRTUAL_NODES }, (_, v) => ({ at: point(`${m.id}#${v}`), id: m.id })))
        .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
      for (let partition = 0; partition < (partitionsPerTopic.get(topic) ?? 0); partition++) {
        const at = point(`${topic}-${partition}`);
        const owner = (ring.find((node) => node.at >= at) ?? ring[0]!).id;
        const mine = result.get(owner)!;
        mine.set(topic, [...(mine.get(topic) ?? []), partition]);
      }
    }
    return result;
  }
}
