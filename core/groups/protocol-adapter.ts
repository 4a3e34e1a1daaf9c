import type { MemberAssignment, TopicPartition } from '../assignment/assignor.ts';

export interface MemberSubscription {
  topics: readonly string[];
  owned: readonly TopicPartition[];
  generation?: number;
}

/**
 * What the coordinator needs to understand the opaque member metadata of one protocol type
 * (Kafka's `consumer` ConsumerProtocol bytes, RocketMQ's subscriptions): registered by the protocol plugin.
 */
export interface GroupProtocolAdapter {
  readonly protocolType: string;
  /** The topics a member subscribes to, from its metadata for `protocolName`; undefined if unreadable. */
  subscription(protocolName: string, metadata: Buffer): MemberSubscription | undefined;
  /** In server mode, the protocol name to answer with, chosen from those every member offers. */
  serverProtocol(common: readonly string[]): string | undefined;
  /** Encodes a server-computed assignment the way the member's protocol expects. */
  encodeAssignment(protocolName: string, assignment: MemberAssignment, memberMetadata: Buffer): Buffer;
}
