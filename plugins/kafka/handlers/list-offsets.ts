import type { ListOffsetsRequest, ListOffsetsResponse, ListOffsetsResponseListOffsetsPartitionResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';

const LATEST = -1;
const EARLIEST = -2;
const READ_COMMITTED = 1;
/** v7+ (KIP-734): the first record with the largest timestamp. */
const MAX_TIMESTAMP = -3;
/** v8+ (KIP-405): the first offset stored locally; without tiered storage, the log start offset. */
const EARLIEST_LOCAL = -4;
/** v9+ (KIP-1005): the last offset in tiered storage; without tiered storage Kafka answers offset -1, epoch -1. */
const LATEST_TIERED = -5;

/**
 * Latest (-1) is the high watermark (read_committed: the last stable offset, which also bounds a lookup by
 * time), earliest (-2) the log start offset, any other time goes through the time index; the special
 * timestamps of newer versions as Kafka's UnifiedLog answers them without tiered storage.
 */
export const handleListOffsets: Handler<ListOffsetsRequest, ListOffsetsResponse> = async (ctx, request, header, connection) => ({
  throttleTimeMs: 0,
  topics: await Promise.all(
    request.topics.map(async (topic) => {
      const described = connection.session.allows('describe', 'topic', topic.name);
      return {
        name: topic.name,
        partitions: await Promise.all(
          topic.partitions.map((p) => (described ? lookup(ctx, topic.name, p.partitionIndex, p.timestamp, header.apiVersion, p.currentLeaderEpoch, request.isolationLevel === READ_COMMITTED) : unauthorized(p.partitionIndex))),
        ),
      };
    }),
  ),
});

function unauthorized(partitionIndex: number): ListOffsetsResponseListOffsetsPartitionResponse {
  return { partitionIndex, errorCode: KafkaError.TOPIC_AUTHORIZATION_FAILED, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 };
}

async function lookup(ctx: KafkaContext, topic: string, partition: number, timestamp: number, version: number, currentLeaderEpoch: number, readCommitted: boolean): Promise<ListOffsetsResponseListOffsetsPartitionResponse> {
  const leadership = ctx.leaderLog(topic, partition, currentLeaderEpoch);
  const leaderEpoch = 'error' in leadership ? -1 : leadership.leaderEpoch;
  const result = (errorCode: number, offset: number, found: number): ListOffsetsResponseListOffsetsPartitionResponse => ({
    partitionIndex: partition,
    errorCode,
    oldStyleOffsets: version === 0 && offset >= 0 ? [offset] : [],
    timestamp: found,
    offset,
    leaderEpoch: offset >= 0 ? leaderEpoch : -1,
  });
  if ('error' in leadership) return result(leadership.error, -1, -1);
  const log = leadership.log;
  try {
    // Kafka's lastFetchableOffset: what a consumer of this isolation level may read.
    const lastFetchable = readCommitted ? log.lastStableOffset : log.highWatermark;
    if (timestamp === LATEST) return result(KafkaError.NONE, lastFetchable, -1);
    if (timestamp === EARLIEST || (timestamp === EARLIEST_LOCAL && version >= 8)) return result(KafkaError.NONE, log.logStartOffset, -1);
    if (timestamp === LATEST_TIERED && version >= 9) return result(KafkaError.NONE, -1, -1);
    if (timestamp < 0 && !(timestamp === MAX_TIMESTAMP && version >= 7)) return result(KafkaError.INVALID_REQUEST, -1, -1);
    const found = timestamp === MAX_TIMESTAMP ? await log.offsetOfMaxTimestamp() : await log.offsetForTime(timestamp);
    return found && found.offset < lastFetchable ? result(KafkaError.NONE, found.offset, found.timestamp) : result(KafkaError.NONE, -1, -1);
  } catch (err) {
    return result(kafkaErrorOf(err), -1, -1);
  }
}
