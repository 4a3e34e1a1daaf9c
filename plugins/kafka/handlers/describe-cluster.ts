import type { DescribeClusterRequest, DescribeClusterResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { authorizedOperations, CLUSTER_NAME } from '../security/acl-codes.ts';

const ENDPOINT = { broker: 1, controller: 2 } as const;
/** Kafka's schema default: operations not asked for. */
const UNKNOWN_OPERATIONS = -2147483648;

/** The live brokers and the controller, as Kafka's broker answers on its broker endpoint (AuthHelper.computeDescribeClusterResponse). */
export const handleDescribeCluster: Handler<DescribeClusterRequest, DescribeClusterResponse> = (ctx, request, header, connection) => {
  const base = { throttleTimeMs: 0, endpointType: ENDPOINT.broker, clusterId: '', controllerId: -1, brokers: [], clusterAuthorizedOperations: UNKNOWN_OPERATIONS };
  if (request.endpointType !== ENDPOINT.broker) {
    const known = request.endpointType === ENDPOINT.controller;
    return {
      ...base,
      errorCode: header.apiVersion === 0 ? KafkaError.INVALID_REQUEST : known ? KafkaError.MISMATCHED_ENDPOINT_TYPE : KafkaError.UNSUPPORTED_ENDPOINT_TYPE,
      errorMessage: known
        ? 'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER'
        : `Unsupported endpoint type ${request.endpointType}`,
    };
  }
  const brokers = ctx.liveBrokers(connection.listener);
  const controllerId = ctx.cluster.controllerId();
  return {
    ...base,
    errorCode: KafkaError.NONE,
    errorMessage: null,
    clusterId: ctx.clusterId,
    controllerId: brokers.some((b) => b.nodeId === controllerId) ? controllerId : -1,
    brokers: brokers.map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: null })),
    // As Kafka's handleDescribeCluster: the operations the principal may perform on the cluster, if it may describe it.
    clusterAuthorizedOperations: !request.includeClusterAuthorizedOperations
      ? UNKNOWN_OPERATIONS
      : connection.session.allows('describe', 'cluster', CLUSTER_NAME)
        ? authorizedOperations('cluster', (op) => connection.session.allows(op, 'cluster', CLUSTER_NAME))
        : 0,
  };
};
