import { BrokerError, type HistogramSeries } from '../../core/index.ts';
import { ApiKeys, decodeRequest, encodeResponse, parseRequestHeader } from './codec/index.ts';
import { KafkaError } from './error-codes.ts';
import { handleAlterConfigs } from './handlers/alter-configs.ts';
import { handleApiVersions, apiVersionsResponse } from './handlers/api-versions.ts';
import { handleAlterUserScramCredentials } from './handlers/alter-user-scram-credentials.ts';
import { handleCreateAcls } from './handlers/create-acls.ts';
import { handleCreatePartitions } from './handlers/create-partitions.ts';
import { handleDeleteAcls } from './handlers/delete-acls.ts';
import { handleDescribeAcls } from './handlers/describe-acls.ts';
import { handleDescribeUserScramCredentials } from './handlers/describe-user-scram-credentials.ts';
import { handleCreateTopics } from './handlers/create-topics.ts';
import { handleDeleteGroups } from './handlers/delete-groups.ts';
import { handleDeleteRecords } from './handlers/delete-records.ts';
import { handleDeleteTopics } from './handlers/delete-topics.ts';
import { handleDescribeCluster } from './handlers/describe-cluster.ts';
import { handleDescribeConfigs } from './handlers/describe-configs.ts';
import { handleDescribeGroups } from './handlers/describe-groups.ts';
import { handleDescribeLogDirs } from './handlers/describe-log-dirs.ts';
import { handleAlterClientQuotas } from './handlers/alter-client-quotas.ts';
import { handleDescribeClientQuotas } from './handlers/describe-client-quotas.ts';
import { handleElectLeaders } from './handlers/elect-leaders.ts';
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
import { handleOffsetForLeaderEpoch } from './handlers/offset-for-leader-epoch.ts';
import { handleOffsetFetch } from './handlers/offset-fetch.ts';
import { handleProduce } from './handlers/produce.ts';
import { handleSyncGroup } from './handlers/sync-group.ts';
import { handleAddOffsetsToTxn } from './handlers/add-offsets-to-txn.ts';
import { handleAddPartitionsToTxn } from './handlers/add-partitions-to-txn.ts';
import { handleDescribeProducers } from './handlers/describe-producers.ts';
import { handleDescribeTransactions } from './handlers/describe-transactions.ts';
import { handleEndTxn } from './handlers/end-txn.ts';
import { handleListTransactions } from './handlers/list-transactions.ts';
import { handleTxnOffsetCommit } from './handlers/txn-offset-commit.ts';
import { handleWriteTxnMarkers } from './handlers/write-txn-markers.ts';
import type { Dispatch, KafkaConnection, Reply } from './kafka-connection.ts';
import { CLOSE_CONNECTION, NO_RESPONSE, type Handler, type KafkaContext } from './kafka-context.ts';
import { authenticate, handshake, rawToken, refusal } from './security/sasl.ts';
import type { SaslAuthenticateRequest, SaslHandshakeRequest } from './codec/index.ts';
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
  [ApiKeys.OffsetForLeaderEpoch.key, handleOffsetForLeaderEpoch],
  [ApiKeys.DescribeCluster.key, handleDescribeCluster],
  [ApiKeys.DescribeAcls.key, handleDescribeAcls],
  [ApiKeys.CreateAcls.key, handleCreateAcls],
  [ApiKeys.DeleteAcls.key, handleDeleteAcls],
  [ApiKeys.DescribeUserScramCredentials.key, handleDescribeUserScramCredentials],
  [ApiKeys.AlterUserScramCredentials.key, handleAlterUserScramCredentials],
  [ApiKeys.AddPartitionsToTxn.key, handleAddPartitionsToTxn],
  [ApiKeys.AddOffsetsToTxn.key, handleAddOffsetsToTxn],
  [ApiKeys.TxnOffsetCommit.key, handleTxnOffsetCommit],
  [ApiKeys.EndTxn.key, handleEndTxn],
  [ApiKeys.DescribeTransactions.key, handleDescribeTransactions],
  [ApiKeys.ListTransactions.key, handleListTransactions],
  [ApiKeys.DescribeProducers.key, handleDescribeProducers],
  [ApiKeys.WriteTxnMarkers.key, handleWriteTxnMarkers],
  [ApiKeys.ElectLeaders.key, handleElectLeaders],
  [ApiKeys.DescribeClientQuotas.key, handleDescribeClientQuotas],
  [ApiKeys.AlterClientQuotas.key, handleAlterClientQuotas],
] as Array<[number, Handler<never, unknown>]>);

/**
 * Frame -> header -> decoded request -> handler -> encoded response. An unsupported API or version,
 * or bytes that do not decode, throw, and the connection closes (Kafka's behaviour); only an
 * ApiVersions request of an unknown version gets the KIP-511 v0 error reply. The connection's SASL
 * state decides first what a frame is (a bare token after a v0 handshake) and whether it may be
 * handled at all (before authentication, during an exchange, after the session expired).
 */
export function createDispatch(ctx: KafkaContext, latency: (apiKey: number) => HistogramSeries | undefined = () => undefined): Dispatch {
  return async (frame, connection) => {
    const session = connection.session;
    while (session.pending !== undefined) await session.pending;
    if (session.raw && session.exchange) return rawToken(ctx, connection, frame);
    const started = performance.now();
    const header = parseRequestHeader(frame);
    if (header.clientId !== null) connection.clientId = header.clientId;
    const supported = supportedRange.get(header.apiKey);
    if (header.apiKey === ApiKeys.ApiVersions.key && supported && header.apiVersion > supported.max) {
      return encodeResponse(ApiKeys.ApiVersions, 0, header.correlationId, apiVersionsResponse(KafkaError.UNSUPPORTED_VERSION));
    }
    if (!supported || header.apiVersion < supported.min || header.apiVersion > supported.max) {
      throw new BrokerError('UNSUPPORTED_VERSION', `api ${header.apiKey} v${header.apiVersion} is not supported`);
    }
    const refused = refusal(ctx, connection, header.apiKey);
    if (refused !== undefined) return refuse(connection, refused);
    const request = decodeRequest(header, frame);
    if (header.apiKey === ApiKeys.SaslHandshake.key) return handshake(ctx, connection, request as SaslHandshakeRequest, header);
    if (header.apiKey === ApiKeys.SaslAuthenticate.key) return authenticate(ctx, connection, request as SaslAuthenticateRequest, header);
    const handler = HANDLERS.get(header.apiKey)! as Handler<unknown, unknown>;
    const throttleTimeMs = header.apiKey === ApiKeys.Produce.key ? produceThrottle(ctx, connection, header.clientId, frame.length) : 0;
    const response = await handler(ctx, request, header, connection);
    if (throttleTimeMs > 0 && typeof response === 'object' && response !== null) (response as { throttleTimeMs: number }).throttleTimeMs = throttleTimeMs;
    latency(header.apiKey)?.observeSince(started);
    if (response === NO_RESPONSE) return undefined;
    if (response === CLOSE_CONNECTION) return CLOSE_CONNECTION;
    return encodeResponse(supported.api, header.apiVersion, header.correlationId, response);
  };
}

/**
 * Kafka records a produce request's whole size against the client's producer_byte_rate quota as it is
 * handled; over the quota, the response carries the throttle time and the connection is muted that long
 * (KIP-219), acks=0 included.
 */
function produceThrottle(ctx: KafkaContext, connection: KafkaConnection, clientId: string | null, bytes: number): number {
  const throttleTimeMs = ctx.quotas.recordProduce(connection.session.principal, clientId ?? '', bytes, ctx.clock.now());
  connection.throttle(throttleTimeMs);
  return throttleTimeMs;
}

/** A request the connection's state does not allow: logged as a failed authentication, closed after the delay, unanswered (as Kafka). */
async function refuse(connection: KafkaConnection, reason: string): Promise<Reply> {
  const security = connection.session.security;
  security.authenticationFailed({ protocol: 'kafka', mechanism: connection.session.exchange?.mechanism ?? 'none', remote: connection.socket.remoteAddress, reason });
  if (security.failedAuthenticationDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, security.failedAuthenticationDelayMs));
  return CLOSE_CONNECTION;
}
