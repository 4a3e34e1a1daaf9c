import { ApiKeys, type ApiCodec } from './codec/index.ts';

/**
 * The API versions Wharf advertises: from the old minimums (librdkafka enables features only when ranges
 * overlap old versions) up to what a Kafka 3.9 broker serves (its message schemas and ApiVersions), so
 * current clients use flexible versions, topic ids (Metadata v10+, Fetch v13+), batched groups and
 * coordinators, and the KIP-951 leader hints.
 */
export const SUPPORTED_APIS: ReadonlyArray<{ api: ApiCodec; min: number; max: number }> = [
  { api: ApiKeys.Produce, min: 3, max: 11 },
  { api: ApiKeys.Fetch, min: 4, max: 17 },
  { api: ApiKeys.ListOffsets, min: 0, max: 9 },
  { api: ApiKeys.Metadata, min: 0, max: 12 },
  { api: ApiKeys.OffsetCommit, min: 0, max: 9 },
  { api: ApiKeys.OffsetFetch, min: 0, max: 9 },
  { api: ApiKeys.FindCoordinator, min: 0, max: 6 },
  { api: ApiKeys.JoinGroup, min: 0, max: 9 },
  { api: ApiKeys.Heartbeat, min: 0, max: 4 },
  { api: ApiKeys.LeaveGroup, min: 0, max: 5 },
  { api: ApiKeys.SyncGroup, min: 0, max: 5 },
  { api: ApiKeys.DescribeGroups, min: 0, max: 5 },
  { api: ApiKeys.ListGroups, min: 0, max: 5 },
  { api: ApiKeys.SaslHandshake, min: 0, max: 1 },
  { api: ApiKeys.SaslAuthenticate, min: 0, max: 2 },
  { api: ApiKeys.ApiVersions, min: 0, max: 4 },
  { api: ApiKeys.CreateTopics, min: 0, max: 7 },
  { api: ApiKeys.DeleteTopics, min: 0, max: 6 },
  { api: ApiKeys.InitProducerId, min: 0, max: 5 },
  { api: ApiKeys.DescribeAcls, min: 0, max: 3 },
  { api: ApiKeys.CreateAcls, min: 0, max: 3 },
  { api: ApiKeys.DeleteAcls, min: 0, max: 3 },
  { api: ApiKeys.DescribeConfigs, min: 0, max: 4 },
  { api: ApiKeys.CreatePartitions, min: 0, max: 3 },
  { api: ApiKeys.DeleteGroups, min: 0, max: 2 },
  { api: ApiKeys.DeleteRecords, min: 0, max: 2 },
  { api: ApiKeys.AlterConfigs, min: 0, max: 2 },
  { api: ApiKeys.DescribeLogDirs, min: 0, max: 4 },
  { api: ApiKeys.IncrementalAlterConfigs, min: 0, max: 1 },
  { api: ApiKeys.OffsetDelete, min: 0, max: 0 },
  { api: ApiKeys.OffsetForLeaderEpoch, min: 0, max: 4 },
  { api: ApiKeys.DescribeCluster, min: 0, max: 1 },
  { api: ApiKeys.DescribeUserScramCredentials, min: 0, max: 0 },
  { api: ApiKeys.AlterUserScramCredentials, min: 0, max: 0 },
  // Transactions: the client versions Kafka 3.9 serves (AddPartitionsToTxn v4+ is broker-to-broker; EndTxn v5 is
  // Kafka 4.0's transaction version 2). v4 of the others only lets TRANSACTION_ABORTABLE through (KIP-890).
  { api: ApiKeys.AddPartitionsToTxn, min: 0, max: 3 },
  { api: ApiKeys.AddOffsetsToTxn, min: 0, max: 4 },
  { api: ApiKeys.TxnOffsetCommit, min: 0, max: 4 },
  { api: ApiKeys.EndTxn, min: 0, max: 4 },
  // Broker-to-broker in Kafka, but sent by Admin.abortTransaction (KIP-664) to a partition's leader.
  { api: ApiKeys.WriteTxnMarkers, min: 0, max: 1 },
  { api: ApiKeys.DescribeTransactions, min: 0, max: 0 },
  { api: ApiKeys.ListTransactions, min: 0, max: 1 },
  { api: ApiKeys.DescribeProducers, min: 0, max: 0 },
  { api: ApiKeys.ElectLeaders, min: 0, max: 2 },
  { api: ApiKeys.DescribeClientQuotas, min: 0, max: 1 },
  { api: ApiKeys.AlterClientQuotas, min: 0, max: 1 },
];

export const supportedRange = new Map(SUPPORTED_APIS.map((s) => [s.api.key, s]));
