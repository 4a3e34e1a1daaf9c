export type { AssignmentInput, AssignmentMember, Assignor, MemberAssignment, TopicPartition } from './assignor.ts';
export { AssignorRegistry } from './assignor-registry.ts';
export { RangeAssignor } from './range-assignor.ts';
export { RoundRobinAssignor } from './round-robin-assignor.ts';
export { StickyAssignor } from './sticky-assignor.ts';
