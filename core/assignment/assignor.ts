export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface AssignmentMember {
  id: string;
  subscriptions: readonly string[];
  owned?: readonly TopicPartition[];
  generation?: number;
}

export interface AssignmentInput {
  members: readonly AssignmentMember[];
  partitionsPerTopic: ReadonlyMap<string, number>;
}

/** topic -> sorted partitions */
export type MemberAssignment = ReadonlyMap<string, readonly number[]>;

export interface Assignor {
  readonly name: string;
  assign(input: AssignmentInput): Map<string, MemberAssignment>;
}
