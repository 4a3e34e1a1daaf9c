import type { ErrorCode } from '../../../core/index.ts';
import type { WriteTxnMarkersRequest, WriteTxnMarkersResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorFor, type KafkaErrorCode } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { CLUSTER_NAME } from '../security/acl-codes.ts';

type TopicErrors = Map<string, Map<number, KafkaErrorCode>>;

/**
 * Kafka's handleWriteTxnMarkersRequest: ALTER or CLUSTER_ACTION on the cluster, then each marker is
 * written into the partitions whose log is here, through the path a coordinator's markers take at a
 * partition leader. A partition with no replica here is UNKNOWN_TOPIC_OR_PARTITION; a follower's is
 * NOT_LEADER_OR_FOLLOWER, as is an offsets partition whose group coordinator is not (yet) here. The
 * answer has one entry per producer id, its partitions' codes merged.
 */
export const handleWriteTxnMarkers: Handler<WriteTxnMarkersRequest, WriteTxnMarkersResponse> = async (ctx, request, _header, connection) => {
  const session = connection.session;
  const byProducer = new Map<number, TopicErrors>();
  const record = (producerId: number, topic: string, partition: number, errorCode: KafkaErrorCode): void => {
    let topics = byProducer.get(producerId);
    if (!topics) byProducer.set(producerId, (topics = new Map()));
    let partitions = topics.get(topic);
    if (!partitions) topics.set(topic, (partitions = new Map()));
    partitions.set(partition, errorCode);
  };
  const allowed = session.allows('alter', 'cluster', CLUSTER_NAME) || session.allows('cluster-action', 'cluster', CLUSTER_NAME);
  if (!allowed || ctx.transactions === undefined) {
    const errorCode = allowed ? KafkaError.COORDINATOR_NOT_AVAILABLE : KafkaError.CLUSTER_AUTHORIZATION_FAILED;
    for (const m of request.markers) for (const t of m.topics) for (const p of t.partitionIndexes) record(m.producerId, t.name, p, errorCode);
    return answer(byProducer);
  }
  const transactions = ctx.transactions;
  await Promise.all(
    request.markers.map(async (m) => {
      const here: Array<{ topic: string; partition: number }> = [];
      for (const t of m.topics) {
        for (const partition of t.partitionIndexes) {
          if (ctx.topics.log(t.name, partition) === undefined) record(m.producerId, t.name, partition, KafkaError.UNKNOWN_TOPIC_OR_PARTITION);
          else here.push({ topic: t.name, partition });
        }
      }
      if (here.length === 0) return;
      const written = await transactions.writeMarkersHere({ producerId: m.producerId, producerEpoch: m.producerEpoch, coordinatorEpoch: m.coordinatorEpoch, commit: m.transactionResult, partitions: here });
      here.forEach((p, i) => record(m.producerId, p.topic, p.partition, markerError(written.errors[i] ?? null)));
    }),
  );
  return answer(byProducer);
};

/** The leader's refusal as Kafka's WriteTxnMarkers answers it. */
function markerError(code: ErrorCode | null): KafkaErrorCode {
  switch (code) {
    case null:
      return KafkaError.NONE;
    // Kafka turns the group coordinator's refusals into NOT_LEADER_OR_FOLLOWER for the sender to retry.
    case 'NOT_COORDINATOR':
    case 'COORDINATOR_LOADING':
      return KafkaError.NOT_LEADER_OR_FOLLOWER;
    default:
      return kafkaErrorFor(code);
  }
}

function answer(byProducer: Map<number, TopicErrors>): WriteTxnMarkersResponse {
  return {
    markers: [...byProducer].map(([producerId, topics]) => ({
      producerId,
      topics: [...topics].map(([name, partitions]) => ({ name, partitions: [...partitions].map(([partitionIndex, errorCode]) => ({ partitionIndex, errorCode })) })),
    })),
  };
}
