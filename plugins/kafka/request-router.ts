import { BrokerError, type HistogramSeries } from '../../core/index.ts';
import { ApiKeys, decodeRequest, encodeResponse, parseRequestHeader } from './codec/index.ts';
import { KafkaError } from './error-codes.ts';
import { handleAlterConfigs } from './handlers/alter-configs.ts';
import { handleApiVersions, apiVersionsResponse } from './handlers/api-versions.ts';
import { handleCreatePartitions } from './handlers/create-partitions.ts';
import { handleCreateTopics } from './handlers/create-topics.ts';
import { handleDeleteGroups } from './handlers/delete-groups.ts';
import { handleDeleteRecords } from './handlers/delete-records.ts';
import { handleDeleteTopics } from './handlers/delete-topics.ts';
import { handleDescribeCluster } from './handlers/describe-cluster.ts';
import { handleDescribeConfigs } from './handlers/describe-configs.ts';
import { handleDescribeGroups } from './handlers/describe-groups.ts';
import { handleDescribeLogDirs } from './handlers/describe-log-dirs.ts';
import { handleFetch } from './handlers/fetch.ts';
import { handleFindCoordinator } from './handlers/find-coordinator.ts';
import { handleHeartbeat } from './handlers/heartbeat.ts';
import { handleIncrementalAlterConfigs } from './handlers/incremental-alter-configs.ts';
import { handleInitProducerId } from './handlers/init-producer-id.ts';
import { handleJoinGroup } from './handlers/join-group.ts';
import { handleLeaveGroup } from './handlers/leave-group.ts';
import { handleListGroups } from './handlers/list-groups.ts';
import { handleListOffsets } from './handlers/list-offsets.ts';
import { handleMetadata } from './handlers/metadata.ts';
import { handleOffsetCommit } from './handlers/offset-commit.ts';
import { handleOffsetDelete } from './handlers/offset-delete.ts';
import { handleOffsetFetch } from './handlers/offset-fetch.ts';
import { handleProduce } from './handlers/produce.ts';
import { handleSaslHandshake } from './handlers/sasl-handshake.ts';
import { handleSyncGroup } from './handlers/sync-group.ts';
import type { Dispatch } from './kafka-connection.ts';
import { CLOSE_CONNECTION, NO_RESPONSE, type Handler, type KafkaContext } from './kafka-context.ts';
import { supportedRange } from './supported-apis.ts';

const HANDLERS = new Map<number, Handler<never, unknown>>([
  [ApiKeys.Produce.key, handleProduce],
  [ApiKeys.Fetch.key, handleFetch],
  [ApiKeys.ListOffsets.key, handleListOffsets],
  [ApiKeys.Metadata.key, handleMetadata],
  [ApiKeys.OffsetCommit.key, handleOffsetCommit],
  [ApiKeys.OffsetFetch.key, handleOffsetFetch],
  [ApiKeys.FindCoordinator.key, handleFindCoordinator],
  [ApiKeys.JoinGroup.key, handleJoinGroup],
  [ApiKeys.Heartbeat.key, handleHeartbeat],
  [ApiKeys.LeaveGroup.key, handleLeaveGroup],
  [ApiKeys.SyncGroup.key, handleSyncGroup],
  [ApiKeys.DescribeGroups.key, handleDescribeGroups],
  [ApiKeys.ListGroups.key, handleListGroups],
  [ApiKeys.SaslHandshake.key, handleSaslHandshake],
  [ApiKeys.ApiVersions.key, handleApiVersions],
  [ApiKeys.CreateTopics.key, handleCreateTopics],
  [ApiKeys.DeleteTopics.key, handleDeleteTopics],
  [ApiKeys.InitProducerId.key, handleInitProducerId],
  [ApiKeys.DescribeConfigs.key, handleDescribeConfigs],
  [ApiKeys.CreatePartitions.key, handleCreatePartitions],
  [ApiKeys.DeleteGroups.key, handleDeleteGroups],
  [ApiKeys.DeleteRecords.key, handleDeleteRecords],
  [ApiKeys.AlterConfigs.key, handleAlterConfigs],
  [ApiKeys.DescribeLogDirs.key, handleDescribeLogDirs],
  [ApiKeys.IncrementalAlterConfigs.key, handleIncrementalAlterConfigs],
  [ApiKeys.OffsetDelete.key, handleOffsetDelete],
  [ApiKeys.DescribeCluster.key, handleDescribeCluster],
] as Array<[number, Handler<never, unknown>]>);

/**
 * Frame -> header -> decoded request -> handler -> encoded response. An unsupported API or version,
 * or bytes that do not decode, throw, and the connection closes (Kafka's behaviour); only an
 * ApiVersions request of an unknown version gets the KIP-511 v0 error reply.
 */
export function createDispatch(ctx: KafkaContext, latency: (apiKey: number) => HistogramSeries | undefined = () => undefined): Dispatch {
  return async (frame, connection) => {
    const started = performance.now();
    const header = parseRequestHeader(frame);
    const supported = supportedRange.get(header.apiKey);
    if (header.apiKey === ApiKeys.ApiVersions.key && supported && header.apiVersion > supported.max) {
      return encodeResponse(ApiKeys.ApiVersions, 0, header.correlationId, apiVersionsResponse(KafkaError.UNSUPPORTED_VERSION));
    }
    if (!supported || header.apiVersion < supported.min || header.apiVersion > supported.max) {
      throw new BrokerError('UNSUPPORTED_VERSION', `api ${header.apiKey} v${header.apiVersion} is not supported`);
    }
    const request = decodeRequest(header, frame);
    const handler = HANDLERS.get(header.apiKey)! as Handler<unknown, unknown>;
    const response = await handler(ctx, request, header, connection);
    latency(header.apiKey)?.observeSince(started);
    if (response === NO_RESPONSE) return undefined;
    if (response === CLOSE_CONNECTION) return CLOSE_CONNECTION;
    return encodeResponse(supported.api, header.apiVersion, header.correlationId, response);
  };
}
