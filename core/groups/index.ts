export { GroupCoordinator, type OffsetDeletion } from './group-coordinator.ts';
export { OFFSETS_TOPIC, OffsetStore, type CommittedOffset, type GroupOffset, type OffsetCommit, type StoredOffset } from './offset-store.ts';
export type { GroupProtocolAdapter, MemberSubscription } from './protocol-adapter.ts';
export type * from './group-types.ts';
