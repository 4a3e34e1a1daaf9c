import type { OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse, OffsetForLeaderEpochResponseEpochEndOffset } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';
import { leaderEpochsOf } from '../leader-epochs.ts';
import { CLUSTER_NAME } from '../security/acl-codes.ts';

/**
 * Where a leader epoch ends on the partition's leader (KIP-101; consumers since KIP-320 check their position
 * with it after a leader change). As Kafka: DESCRIBE on the topic (or CLUSTER_ACTION), only the leader
 * answers, `current_leader_epoch` fences; the end is Kafka's LeaderEpochFileCache.endOffsetFor. On a single
 * node every batch carries epoch 0, which starts at the log start offset.
 */
export const handleOffsetForLeaderEpoch: Handler<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse> = async (ctx, request, _header, connection) => {
  const { session } = connection;
  const cluster = session.allows('cluster-action', 'cluster', CLUSTER_NAME);
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((t) => {
      const authorized = cluster || session.allows('describe', 'topic', t.topic);
      return {
        topic: t.topic,
        partitions: t.partitions.map((p) => (authorized ? endOffset(ctx, t.topic, p.partition, p.currentLeaderEpoch, p.leaderEpoch) : result(p.partition, KafkaError.TOPIC_AUTHORIZATION_FAILED))),
      };
    }),
  };
};

function endOffset(ctx: KafkaContext, topic: string, partition: number, currentLeaderEpoch: number, leaderEpoch: number): OffsetForLeaderEpochResponseEpochEndOffset {
  const leadership = ctx.leaderLog(topic, partition, currentLeaderEpoch);
  if ('error' in leadership) return result(partition, leadership.error);
  const { log } = leadership;
  const end = leaderEpochsOf(ctx, topic, partition, log).requestedEndOffset(leaderEpoch, log.logEndOffset);
  return result(partition, KafkaError.NONE, end.epoch, end.endOffset);
}

function result(partition: number, errorCode: number, leaderEpoch = -1, endOffset = -1): OffsetForLeaderEpochResponseEpochEndOffset {
  return { errorCode, partition, leaderEpoch, endOffset };
}
