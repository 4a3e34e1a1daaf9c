import type { DeleteTopicsRequest, DeleteTopicsResponse, DeleteTopicsResponseDeletableTopicResult } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { NO_TOPIC_ID, topicIdBytes } from '../topic-ids.ts';

/**
 * Deletes topics (DELETE on each, checked before whether it exists) and their files; their committed
 * offsets go too. v6+ may name a topic by id (KIP-516): an id no topic has is UNKNOWN_TOPIC_ID. Each
 * result carries the deleted topic's id.
 */
export const handleDeleteTopics: Handler<DeleteTopicsRequest, DeleteTopicsResponse> = async (ctx, request, header, connection) => {
  const named = header.apiVersion >= 6 ? request.topics : request.topicNames.map((name) => ({ name, topicId: NO_TOPIC_ID }));
  const responses: DeleteTopicsResponseDeletableTopicResult[] = [];
  for (const entry of named) {
    const byId = !entry.topicId.equals(NO_TOPIC_ID);
    const result = (name: string | null, topicId: Buffer, errorCode: number, errorMessage: string | null = null) => responses.push({ name, topicId, errorCode, errorMessage });
    if (byId && entry.name !== null) {
      result(entry.name, entry.topicId, KafkaError.INVALID_REQUEST, 'You may not specify both topic name and topic id.');
      continue;
    }
    const name = byId ? ctx.topicIds.nameOf(entry.topicId) : (entry.name ?? '');
    if (name === undefined) {
      result(null, entry.topicId, KafkaError.UNKNOWN_TOPIC_ID);
      continue;
    }
    if (!connection.session.allows('delete', 'topic', name)) {
      result(byId ? null : name, entry.topicId, KafkaError.TOPIC_AUTHORIZATION_FAILED);
      continue;
    }
    const topic = ctx.visibleTopic(name);
    if (!topic) {
      result(name, entry.topicId, byId ? KafkaError.UNKNOWN_TOPIC_ID : KafkaError.UNKNOWN_TOPIC_OR_PARTITION);
      continue;
    }
    try {
      await ctx.topics.delete(name);
      await ctx.offsets.deleteTopic(name);
      result(name, topicIdBytes(topic.id), KafkaError.NONE);
    } catch (err) {
      result(name, topicIdBytes(topic.id), kafkaErrorOf(err), (err as Error).message);
    }
  }
  return { throttleTimeMs: 0, responses };
};
