import * as g from './generated/index.ts';
import type { Reader } from './reader.ts';
import type { Writer } from './writer.ts';

interface MessageCodec<T> {
  decode(r: Reader, version: number): T;
  encode(w: Writer, version: number, value: T): void;
  versions: { min: number; max: number; firstFlexible: number };
}

export interface ApiCodec<Req = unknown, Res = unknown> {
  key: number;
  name: string;
  request: MessageCodec<Req>;
  response: MessageCodec<Res>;
}

function api<Req, Res>(key: number, name: string, request: MessageCodec<Req>, response: MessageCodec<Res>): ApiCodec<Req, Res> {
  return { key, name, request, response };
}

/** The request and response codecs of every API Wharf reads, by api key. */
export const ApiKeys = {
  Produce: api(0, 'Produce', { decode: g.decodeProduceRequest, encode: g.encodeProduceRequest, versions: g.ProduceRequestVersions }, { decode: g.decodeProduceResponse, encode: g.encodeProduceResponse, versions: g.ProduceResponseVersions }),
  Fetch: api(1, 'Fetch', { decode: g.decodeFetchRequest, encode: g.encodeFetchRequest, versions: g.FetchRequestVersions }, { decode: g.decodeFetchResponse, encode: g.encodeFetchResponse, versions: g.FetchResponseVersions }),
  ListOffsets: api(2, 'ListOffsets', { decode: g.decodeListOffsetsRequest, encode: g.encodeListOffsetsRequest, versions: g.ListOffsetsRequestVersions }, { decode: g.decodeListOffsetsResponse, encode: g.encodeListOffsetsResponse, versions: g.ListOffsetsResponseVersions }),
  Metadata: api(3, 'Metadata', { decode: g.decodeMetadataRequest, encode: g.encodeMetadataRequest, versions: g.MetadataRequestVersions }, { decode: g.decodeMetadataResponse, encode: g.encodeMetadataResponse, versions: g.MetadataResponseVersions }),
  OffsetCommit: api(8, 'OffsetCommit', { decode: g.decodeOffsetCommitRequest, encode: g.encodeOffsetCommitRequest, versions: g.OffsetCommitRequestVersions }, { decode: g.decodeOffsetCommitResponse, encode: g.encodeOffsetCommitResponse, versions: g.OffsetCommitResponseVersions }),
  OffsetFetch: api(9, 'OffsetFetch', { decode: g.decodeOffsetFetchRequest, encode: g.encodeOffsetFetchRequest, versions: g.OffsetFetchRequestVersions }, { decode: g.decodeOffsetFetchResponse, encode: g.encodeOffsetFetchResponse, versions: g.OffsetFetchResponseVersions }),
  FindCoordinator: api(10, 'FindCoordinator', { decode: g.decodeFindCoordinatorRequest, encode: g.encodeFindCoordinatorRequest, versions: g.FindCoordinatorRequestVersions }, { decode: g.decodeFindCoordinatorResponse, encode: g.encodeFindCoordinatorResponse, versions: g.FindCoordinatorResponseVersions }),
  JoinGroup: api(11, 'JoinGroup', { decode: g.decodeJoinGroupRequest, encode: g.encodeJoinGroupRequest, versions: g.JoinGroupRequestVersions }, { decode: g.decodeJoinGroupResponse, encode: g.encodeJoinGroupResponse, versions: g.JoinGroupResponseVersions }),
  Heartbeat: api(12, 'Heartbeat', { decode: g.decodeHeartbeatRequest, encode: g.encodeHeartbeatRequest, versions: g.HeartbeatRequestVersions }, { decode: g.decodeHeartbeatResponse, encode: g.encodeHeartbeatResponse, versions: g.HeartbeatResponseVersions }),
  LeaveGroup: api(13, 'LeaveGroup', { decode: g.decodeLeaveGroupRequest, encode: g.encodeLeaveGroupRequest, versions: g.LeaveGroupRequestVersions }, { decode: g.decodeLeaveGroupResponse, encode: g.encodeLeaveGroupResponse, versions: g.LeaveGroupResponseVersions }),
  SyncGroup: api(14, 'SyncGroup', { decode: g.decodeSyncGroupRequest, encode: g.encodeSyncGroupRequest, versions: g.SyncGroupRequestVersions }, { decode: g.decodeSyncGroupResponse, encode: g.encodeSyncGroupResponse, versions: g.SyncGroupResponseVersions }),
  DescribeGroups: api(15, 'DescribeGroups', { decode: g.decodeDescribeGroupsRequest, encode: g.encodeDescribeGroupsRequest, versions: g.DescribeGroupsRequestVersions }, { decode: g.decodeDescribeGroupsResponse, encode: g.encodeDescribeGroupsResponse, versions: g.DescribeGroupsResponseVersions }),
  ListGroups: api(16, 'ListGroups', { decode: g.decodeListGroupsRequest, encode: g.encodeListGroupsRequest, versions: g.ListGroupsRequestVersions }, { decode: g.decodeListGroupsResponse, encode: g.encodeListGroupsResponse, versions: g.ListGroupsResponseVersions }),
  SaslHandshake: api(17, 'SaslHandshake', { decode: g.decodeSaslHandshakeRequest, encode: g.encodeSaslHandshakeRequest, versions: g.SaslHandshakeRequestVersions }, { decode: g.decodeSaslHandshakeResponse, encode: g.encodeSaslHandshakeResponse, versions: g.SaslHandshakeResponseVersions }),
  ApiVersions: api(18, 'ApiVersions', { decode: g.decodeApiVersionsRequest, encode: g.encodeApiVersionsRequest, versions: g.ApiVersionsRequestVersions }, { decode: g.decodeApiVersionsResponse, encode: g.encodeApiVersionsResponse, versions: g.ApiVersionsResponseVersions }),
  CreateTopics: api(19, 'CreateTopics', { decode: g.decodeCreateTopicsRequest, encode: g.encodeCreateTopicsRequest, versions: g.CreateTopicsRequestVersions }, { decode: g.decodeCreateTopicsResponse, encode: g.encodeCreateTopicsResponse, versions: g.CreateTopicsResponseVersions }),
  DeleteTopics: api(20, 'DeleteTopics', { decode: g.decodeDeleteTopicsRequest, encode: g.encodeDeleteTopicsRequest, versions: g.DeleteTopicsRequestVersions }, { decode: g.decodeDeleteTopicsResponse, encode: g.encodeDeleteTopicsResponse, versions: g.DeleteTopicsResponseVersions }),
  DeleteRecords: api(21, 'DeleteRecords', { decode: g.decodeDeleteRecordsRequest, encode: g.encodeDeleteRecordsRequest, versions: g.DeleteRecordsRequestVersions }, { decode: g.decodeDeleteRecordsResponse, encode: g.encodeDeleteRecordsResponse, versions: g.DeleteRecordsResponseVersions }),
  InitProducerId: api(22, 'InitProducerId', { decode: g.decodeInitProducerIdRequest, encode: g.encodeInitProducerIdRequest, versions: g.InitProducerIdRequestVersions }, { decode: g.decodeInitProducerIdResponse, encode: g.encodeInitProducerIdResponse, versions: g.InitProducerIdResponseVersions }),
  DescribeConfigs: api(32, 'DescribeConfigs', { decode: g.decodeDescribeConfigsRequest, encode: g.encodeDescribeConfigsRequest, versions: g.DescribeConfigsRequestVersions }, { decode: g.decodeDescribeConfigsResponse, encode: g.encodeDescribeConfigsResponse, versions: g.DescribeConfigsResponseVersions }),
  AlterConfigs: api(33, 'AlterConfigs', { decode: g.decodeAlterConfigsRequest, encode: g.encodeAlterConfigsRequest, versions: g.AlterConfigsRequestVersions }, { decode: g.decodeAlterConfigsResponse, encode: g.encodeAlterConfigsResponse, versions: g.AlterConfigsResponseVersions }),
  DescribeLogDirs: api(35, 'DescribeLogDirs', { decode: g.decodeDescribeLogDirsRequest, encode: g.encodeDescribeLogDirsRequest, versions: g.DescribeLogDirsRequestVersions }, { decode: g.decodeDescribeLogDirsResponse, encode: g.encodeDescribeLogDirsResponse, versions: g.DescribeLogDirsResponseVersions }),
  SaslAuthenticate: api(36, 'SaslAuthenticate', { decode: g.decodeSaslAuthenticateRequest, encode: g.encodeSaslAuthenticateRequest, versions: g.SaslAuthenticateRequestVersions }, { decode: g.decodeSaslAuthenticateResponse, encode: g.encodeSaslAuthenticateResponse, versions: g.SaslAuthenticateResponseVersions }),
  DescribeAcls: api(29, 'DescribeAcls', { decode: g.decodeDescribeAclsRequest, encode: g.encodeDescribeAclsRequest, versions: g.DescribeAclsRequestVersions }, { decode: g.decodeDescribeAclsResponse, encode: g.encodeDescribeAclsResponse, versions: g.DescribeAclsResponseVersions }),
  CreateAcls: api(30, 'CreateAcls', { decode: g.decodeCreateAclsRequest, encode: g.encodeCreateAclsRequest, versions: g.CreateAclsRequestVersions }, { decode: g.decodeCreateAclsResponse, encode: g.encodeCreateAclsResponse, versions: g.CreateAclsResponseVersions }),
  DeleteAcls: api(31, 'DeleteAcls', { decode: g.decodeDeleteAclsRequest, encode: g.encodeDeleteAclsRequest, versions: g.DeleteAclsRequestVersions }, { decode: g.decodeDeleteAclsResponse, encode: g.encodeDeleteAclsResponse, versions: g.DeleteAclsResponseVersions }),
  CreatePartitions: api(37, 'CreatePartitions', { decode: g.decodeCreatePartitionsRequest, encode: g.encodeCreatePartitionsRequest, versions: g.CreatePartitionsRequestVersions }, { decode: g.decodeCreatePartitionsResponse, encode: g.encodeCreatePartitionsResponse, versions: g.CreatePartitionsResponseVersions }),
  DeleteGroups: api(42, 'DeleteGroups', { decode: g.decodeDeleteGroupsRequest, encode: g.encodeDeleteGroupsRequest, versions: g.DeleteGroupsRequestVersions }, { decode: g.decodeDeleteGroupsResponse, encode: g.encodeDeleteGroupsResponse, versions: g.DeleteGroupsResponseVersions }),
  IncrementalAlterConfigs: api(44, 'IncrementalAlterConfigs', { decode: g.decodeIncrementalAlterConfigsRequest, encode: g.encodeIncrementalAlterConfigsRequest, versions: g.IncrementalAlterConfigsRequestVersions }, { decode: g.decodeIncrementalAlterConfigsResponse, encode: g.encodeIncrementalAlterConfigsResponse, versions: g.IncrementalAlterConfigsResponseVersions }),
  OffsetForLeaderEpoch: api(23, 'OffsetForLeaderEpoch', { decode: g.decodeOffsetForLeaderEpochRequest, encode: g.encodeOffsetForLeaderEpochRequest, versions: g.OffsetForLeaderEpochRequestVersions }, { decode: g.decodeOffsetForLeaderEpochResponse, encode: g.encodeOffsetForLeaderEpochResponse, versions: g.OffsetForLeaderEpochResponseVersions }),
  OffsetDelete: api(47, 'OffsetDelete', { decode: g.decodeOffsetDeleteRequest, encode: g.encodeOffsetDeleteRequest, versions: g.OffsetDeleteRequestVersions }, { decode: g.decodeOffsetDeleteResponse, encode: g.encodeOffsetDeleteResponse, versions: g.OffsetDeleteResponseVersions }),
  DescribeCluster: api(60, 'DescribeCluster', { decode: g.decodeDescribeClusterRequest, encode: g.encodeDescribeClusterRequest, versions: g.DescribeClusterRequestVersions }, { decode: g.decodeDescribeClusterResponse, encode: g.encodeDescribeClusterResponse, versions: g.DescribeClusterResponseVersions }),
  DescribeUserScramCredentials: api(50, 'DescribeUserScramCredentials', { decode: g.decodeDescribeUserScramCredentialsRequest, encode: g.encodeDescribeUserScramCredentialsRequest, versions: g.DescribeUserScramCredentialsRequestVersions }, { decode: g.decodeDescribeUserScramCredentialsResponse, encode: g.encodeDescribeUserScramCredentialsResponse, versions: g.DescribeUserScramCredentialsResponseVersions }),
  AlterUserScramCredentials: api(51, 'AlterUserScramCredentials', { decode: g.decodeAlterUserScramCredentialsRequest, encode: g.encodeAlterUserScramCredentialsRequest, versions: g.AlterUserScramCredentialsRequestVersions }, { decode: g.decodeAlterUserScramCredentialsResponse, encode: g.encodeAlterUserScramCredentialsResponse, versions: g.AlterUserScramCredentialsResponseVersions }),
  AddPartitionsToTxn: api(24, 'AddPartitionsToTxn', { decode: g.decodeAddPartitionsToTxnRequest, encode: g.encodeAddPartitionsToTxnRequest, versions: g.AddPartitionsToTxnRequestVersions }, { decode: g.decodeAddPartitionsToTxnResponse, encode: g.encodeAddPartitionsToTxnResponse, versions: g.AddPartitionsToTxnResponseVersions }),
  AddOffsetsToTxn: api(25, 'AddOffsetsToTxn', { decode: g.decodeAddOffsetsToTxnRequest, encode: g.encodeAddOffsetsToTxnRequest, versions: g.AddOffsetsToTxnRequestVersions }, { decode: g.decodeAddOffsetsToTxnResponse, encode: g.encodeAddOffsetsToTxnResponse, versions: g.AddOffsetsToTxnResponseVersions }),
  EndTxn: api(26, 'EndTxn', { decode: g.decodeEndTxnRequest, encode: g.encodeEndTxnRequest, versions: g.EndTxnRequestVersions }, { decode: g.decodeEndTxnResponse, encode: g.encodeEndTxnResponse, versions: g.EndTxnResponseVersions }),
  TxnOffsetCommit: api(28, 'TxnOffsetCommit', { decode: g.decodeTxnOffsetCommitRequest, encode: g.encodeTxnOffsetCommitRequest, versions: g.TxnOffsetCommitRequestVersions }, { decode: g.decodeTxnOffsetCommitResponse, encode: g.encodeTxnOffsetCommitResponse, versions: g.TxnOffsetCommitResponseVersions }),
  DescribeProducers: api(61, 'DescribeProducers', { decode: g.decodeDescribeProducersRequest, encode: g.encodeDescribeProducersRequest, versions: g.DescribeProducersRequestVersions }, { decode: g.decodeDescribeProducersResponse, encode: g.encodeDescribeProducersResponse, versions: g.DescribeProducersResponseVersions }),
  WriteTxnMarkers: api(27, 'WriteTxnMarkers', { decode: g.decodeWriteTxnMarkersRequest, encode: g.encodeWriteTxnMarkersRequest, versions: g.WriteTxnMarkersRequestVersions }, { decode: g.decodeWriteTxnMarkersResponse, encode: g.encodeWriteTxnMarkersResponse, versions: g.WriteTxnMarkersResponseVersions }),
  DescribeTransactions: api(65, 'DescribeTransactions', { decode: g.decodeDescribeTransactionsRequest, encode: g.encodeDescribeTransactionsRequest, versions: g.DescribeTransactionsRequestVersions }, { decode: g.decodeDescribeTransactionsResponse, encode: g.encodeDescribeTransactionsResponse, versions: g.DescribeTransactionsResponseVersions }),
  ListTransactions: api(66, 'ListTransactions', { decode: g.decodeListTransactionsRequest, encode: g.encodeListTransactionsRequest, versions: g.ListTransactionsRequestVersions }, { decode: g.decodeListTransactionsResponse, encode: g.encodeListTransactionsResponse, versions: g.ListTransactionsResponseVersions }),
  ElectLeaders: api(43, 'ElectLeaders', { decode: g.decodeElectLeadersRequest, encode: g.encodeElectLeadersRequest, versions: g.ElectLeadersRequestVersions }, { decode: g.decodeElectLeadersResponse, encode: g.encodeElectLeadersResponse, versions: g.ElectLeadersResponseVersions }),
  DescribeClientQuotas: api(48, 'DescribeClientQuotas', { decode: g.decodeDescribeClientQuotasRequest, encode: g.encodeDescribeClientQuotasRequest, versions: g.DescribeClientQuotasRequestVersions }, { decode: g.decodeDescribeClientQuotasResponse, encode: g.encodeDescribeClientQuotasResponse, versions: g.DescribeClientQuotasResponseVersions }),
  AlterClientQuotas: api(49, 'AlterClientQuotas', { decode: g.decodeAlterClientQuotasRequest, encode: g.encodeAlterClientQuotasRequest, versions: g.AlterClientQuotasRequestVersions }, { decode: g.decodeAlterClientQuotasResponse, encode: g.encodeAlterClientQuotasResponse, versions: g.AlterClientQuotasResponseVersions }),
} as const;

export const apisByKey: ReadonlyMap<number, ApiCodec> = new Map(Object.values(ApiKeys).map((a) => [a.key, a as ApiCodec]));
