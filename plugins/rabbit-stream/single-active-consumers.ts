/** A member of a single-active-consumer group: one subscription of one connection. */
export interface GroupMember {
  /** Tells the client its subscription is (in)active (ConsumerUpdate); the active one answers with where to start. */
  setActive(active: boolean): void;
}

interface Group {
  readonly members: GroupMember[];
  /** The partition's place in its super stream, or -1 for a plain stream. */
  readonly partitionIndex: number;
  active: GroupMember | undefined;
}

/**
 * Single active consumer (RabbitMQ 3.11): subscriptions sharing a consumer reference on a stream form a
 * group of which one consumes. On a plain stream it is the oldest; on a partition of a super stream the
 * members are spread over the partitions (member `index % size`), as RabbitMQ's coordinator spreads them.
 */
export class SingleActiveConsumers {
  private readonly groups = new Map<string, Group>();

  join(topic: string, reference: string, partitionIndex: number, member: GroupMember): void {
    const key = `${topic}\u0000${reference}`;
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = { members: [], partitionIndex, active: undefined }));
    group.members.push(member);
    this.elect(group);
  }

  leave(topic: string, reference: string, member: GroupMember): void {
    const key = `${topic}\u0000${reference}`;
    const group = this.groups.get(key);
    if (!group) return;
    const at = group.members.indexOf(member);
    if (at >= 0) group.members.splice(at, 1);
    if (group.active === member) group.active = undefined;
    if (group.members.length === 0) this.groups.delete(key);
    else this.elect(group);
  }

  private elect(group: Group): void {
    const size = group.members.length;
    const chosen = group.members[group.partitionIndex < 0 ? 0 : group.partitionIndex % size]!;
    if (group.active === chosen) return;
    group.active?.setActive(false);
    group.active = chosen;
    chosen.setActive(true);
  }
}
