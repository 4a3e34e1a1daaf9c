import type { DeleteRecordsRequest, DeleteRecordsResponse, DeleteRecordsResponseDeleteRecordsPartitionResult } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';

/** The request's offset meaning "up to the high watermark" (DeleteRecordsRequest.HIGH_WATERMARK). */
const HIGH_WATERMARK = -1;

/**
 * Moves each partition's log start offset up to the requested offset, as Kafka's leader does
 * (Partition.deleteRecordsOnLeader): at most the high watermark, never backwards, durably. A partition
 * named twice is deleted once, with the last offset given. Needs DELETE on the topic.
 */
export const handleDeleteRecords: Handler<DeleteRecordsRequest, DeleteRecordsResponse> = async (ctx, request, _header, connection) => {
  const wanted = new Map<string, Map<number, number>>();
  for (const topic of request.topics) {
    const partitions = wanted.get(topic.name) ?? new Map<number, number>();
    for (const p of topic.partitions) partitions.set(p.partitionIndex, p.offset);
    wanted.set(topic.name, partitions);
  }
  const topics = [];
  for (const [name, partitions] of wanted) {
    const results: DeleteRecordsResponseDeleteRecordsPartitionResult[] = [];
    const allowed = connection.session.allows('delete', 'topic', name);
    for (const [partition, offset] of partitions) {
      results.push(allowed ? await deleteRecords(ctx, name, partition, offset) : { partitionIndex: partition, lowWatermark: -1, errorCode: KafkaError.TOPIC_AUTHORIZATION_FAILED });
    }
    topics.push({ name, partitions: results });
  }
  return { throttleTimeMs: 0, topics };
};

async function deleteRecords(ctx: KafkaContext, topic: string, partitionIndex: number, offset: number): Promise<DeleteRecordsResponseDeleteRecordsPartitionResult> {
  const result = (errorCode: number, lowWatermark = -1) => ({ partitionIndex, lowWatermark, errorCode });
  const leadership = ctx.leaderLog(topic, partitionIndex);
  if ('error' in leadership) return result(leadership.error);
  const { log } = leadership;
  if (ctx.visibleTopic(topic)!.config.cleanupPolicy === 'compact') return result(KafkaError.POLICY_VIOLATION);
  const target = offset === HIGH_WATERMARK ? log.highWatermark : offset;
  if (target < 0 || target > log.highWatermark) return result(KafkaError.OFFSET_OUT_OF_RANGE);
  try {
    await log.deleteBefore(target, { durable: true });
    return result(KafkaError.NONE, log.logStartOffset);
  } catch (err) {
    return result(kafkaErrorOf(err));
  }
}
