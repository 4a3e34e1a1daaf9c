import type { ListOffsetsRequest, ListOffsetsResponse, ListOffsetsResponseListOffsetsPartitionResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';

const LATEST = -1;
const EARLIEST = -2;
const READ_COMMITTED = 1;

/** Latest (-1) is the high watermark (read_committed: the last stable offset, which also bounds a lookup by time), earliest (-2) the log start offset, any other time goes through the time index. */
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
    if (timestamp === EARLIEST) return result(KafkaError.NONE, log.logStartOffset, -1);
    if (timestamp < 0) return result(KafkaError.INVALID_REQUEST, -1, -1);
    const found = await log.offsetForTime(timestamp);
    return found && found.offset < lastFetchable ? result(KafkaError.NONE, found.offset, found.timestamp) : result(KafkaError.NONE, -1, -1);
  } catch (err) {
    return result(kafkaErrorOf(err), -1, -1);
  }
}
