import type { FindCoordinatorRequest, FindCoordinatorResponse, FindCoordinatorResponseCoordinator } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';
import { CLUSTER_NAME } from '../security/acl-codes.ts';
import type { KafkaSession } from '../security/kafka-session.ts';

const GROUP = 0;
const TRANSACTION = 1;
const SHARE = 2;

/**
 * A group's coordinator is the leader of its `__consumer_offsets` partition, a transactional id's the
 * leader of its `__transaction_state` partition (this broker on a single node).
 */
export const handleFindCoordinator: Handler<FindCoordinatorRequest, FindCoordinatorResponse> = (ctx, request, header, connection) => {
  const keys = header.apiVersion >= 4 ? request.coordinatorKeys : [request.key];
  const coordinators = keys.map((key) => unauthorized(connection.session, key, request.keyType) ?? shareCoordinator(connection.session, key, request.keyType, header.apiVersion) ?? locate(ctx, key, request.keyType, connection.listener));
  // v4+ answers each key with an error code alone, as Kafka.
  if (header.apiVersion >= 4) for (const c of coordinators) c.errorMessage = null;
  // v4+ answers through `coordinators` alone (none for no keys); the top-level fields serve v0-3's single key.
  const first = coordinators[0] ?? { errorCode: KafkaError.NONE, errorMessage: null, nodeId: -1, host: '', port: -1 };
  return {
    throttleTimeMs: 0,
    errorCode: first.errorCode,
    errorMessage: first.errorMessage,
    nodeId: first.nodeId,
    host: first.host,
    port: first.port,
    coordinators,
  };
};

/** DESCRIBE on the group (or transactional id) comes first, as in Kafka's getCoordinator. */
function unauthorized(session: KafkaSession, key: string, keyType: number): FindCoordinatorResponseCoordinator | undefined {
  const refuse = (errorCode: number, errorMessage: string) => ({ key, nodeId: -1, host: '', port: -1, errorCode, errorMessage });
  if (keyType === GROUP && !session.allows('describe', 'group', key)) return refuse(KafkaError.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.');
  if (keyType === TRANSACTION && !session.allows('describe', 'transactional-id', key)) return refuse(KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'Transactional Id authorization failed.');
  return undefined;
}

/** KIP-932 share groups (key type 2, v6+) are not served: as Kafka 3.9, whose share coordinator does not exist yet. */
function shareCoordinator(session: KafkaSession, key: string, keyType: number, version: number): FindCoordinatorResponseCoordinator | undefined {
  if (keyType !== SHARE) return undefined;
  const errorCode = version < 6 ? KafkaError.INVALID_REQUEST : session.allows('cluster-action', 'cluster', CLUSTER_NAME) ? KafkaError.COORDINATOR_NOT_AVAILABLE : KafkaError.CLUSTER_AUTHORIZATION_FAILED;
  return { key, nodeId: -1, host: '', port: -1, errorCode, errorMessage: null };
}

function locate(ctx: KafkaContext, key: string, keyType: number, listener: string): FindCoordinatorResponseCoordinator {
  const unavailable = (errorMessage: string): FindCoordinatorResponseCoordinator => ({ key, nodeId: -1, host: '', port: -1, errorCode: KafkaError.COORDINATOR_NOT_AVAILABLE, errorMessage });
  let nodeId = ctx.node.nodeId;
  if (keyType === TRANSACTION || keyType === GROUP) {
    const coordination = keyType === GROUP ? ctx.offsets.coordination(key) : ctx.transactions?.coordination(key);
    if (coordination === undefined || coordination.state === 'unavailable') return unavailable(`the ${keyType === GROUP ? 'group' : 'transaction'} coordinator is not available yet`);
    if (coordination.state === 'elsewhere') nodeId = coordination.nodeId;
  } else return { key, nodeId: -1, host: '', port: -1, errorCode: KafkaError.INVALID_REQUEST, errorMessage: `unknown coordinator key type ${keyType}` };
  const endpoint = ctx.endpoint(nodeId, listener);
  if (!endpoint) return unavailable(`broker ${nodeId} has no ${listener} listener registered`);
  return { key, nodeId, host: endpoint.host, port: endpoint.port, errorCode: KafkaError.NONE, errorMessage: null };
}
