import type { DescribeClusterRequest, DescribeClusterResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

const ENDPOINT = { broker: 1, controller: 2 } as const;
/** Kafka's schema default: operations not asked for. */
const UNKNOWN_OPERATIONS = -2147483648;
/**
 * Without an authorizer every operation Kafka supports on the cluster resource is allowed (AuthHelper.authorizedOperations):
 * CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12, as a bit field.
 */
const CLUSTER_OPERATIONS = [5, 7, 8, 9, 10, 11, 12].reduce((bits, op) => bits | (1 << op), 0);

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
    clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? CLUSTER_OPERATIONS : UNKNOWN_OPERATIONS,
  };
};
