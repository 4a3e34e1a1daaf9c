import type { DeleteTopicsRequest, DeleteTopicsResponse, DeleteTopicsResponseDeletableTopicResult } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

const NO_TOPIC_ID = Buffer.alloc(16);

/** Deletes topics (DELETE on each, checked before whether it exists) and their files; their committed offsets go too. */
export const handleDeleteTopics: Handler<DeleteTopicsRequest, DeleteTopicsResponse> = async (ctx, request, header, connection) => {
  const names = header.apiVersion >= 6 ? request.topics.map((t) => t.name ?? '') : request.topicNames;
  const responses: DeleteTopicsResponseDeletableTopicResult[] = [];
  for (const name of names) {
    if (!connection.session.allows('delete', 'topic', name)) {
      responses.push({ name, topicId: NO_TOPIC_ID, errorCode: KafkaError.TOPIC_AUTHORIZATION_FAILED, errorMessage: null });
      continue;
    }
    if (!ctx.visibleTopic(name)) {
      responses.push({ name, topicId: NO_TOPIC_ID, errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null });
      continue;
    }
    try {
      await ctx.topics.delete(name);
      await ctx.offsets.deleteTopic(name);
      responses.push({ name, topicId: NO_TOPIC_ID, errorCode: KafkaError.NONE, errorMessage: null });
    } catch (err) {
      responses.push({ name, topicId: NO_TOPIC_ID, errorCode: kafkaErrorOf(err), errorMessage: (err as Error).message });
    }
  }
  return { throttleTimeMs: 0, responses };
};
