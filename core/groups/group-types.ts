import type { ErrorCode } from '../errors.ts';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

/** client: the leader member computes the assignment (Kafka's classic protocol); server: the coordinator runs an Assignor. */
export type AssignmentMode = 'client' | 'server';

export interface ProtocolOffer {
  name: string;
  metadata: Buffer;
}

export interface JoinGroupRequest {
  groupId: string;
  /** Empty for a member joining for the first time. */
  memberId: string;
  groupInstanceId?: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: readonly ProtocolOffer[];
  /** Kafka JoinGroup v4+: a new member first gets its id back with MEMBER_ID_REQUIRED. */
  requireKnownMemberId: boolean;
  /** Used when this join creates the group. */
  assignmentMode?: AssignmentMode;
}

export interface JoinedMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

export interface JoinGroupResult {
  error?: ErrorCode;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  /** Empty in server mode: every member is a follower. */
  leaderId: string;
  memberId: string;
  /** Every member's metadata for the chosen protocol, for the leader only. */
  members: JoinedMember[];
}

export interface SyncGroupRequest {
  groupId: string;
  memberId: string;
  generationId: number;
  groupInstanceId?: string | null;
  /** The leader's assignment per member; ignored from followers and in server mode. */
  assignments?: ReadonlyMap<string, Buffer>;
  /** When given, they must be the group's (else INCONSISTENT_PROTOCOL), as Kafka checks SyncGroup v5+. */
  protocolType?: string | null;
  protocolName?: string | null;
}

export interface SyncGroupResult {
  error?: ErrorCode;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface MemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  metadata: Buffer;
  assignment: Buffer;
}

export interface GroupDescription {
  groupId: string;
  state: GroupState;
  protocolType: string;
  protocolName: string;
  generationId: number;
  leaderId: string;
  assignmentMode: AssignmentMode;
  members: MemberDescription[];
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: GroupState;
}
