import type { DeleteTopicsRequest, DeleteTopicsResponse, DeleteTopicsResponseDeletableTopicResult } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

const NO_TOPIC_ID = Buffer.alloc(16);

/** Deletes topics and their files; their committed offsets go too. */
export const handleDeleteTopics: Handler<DeleteTopicsRequest, DeleteTopicsResponse> = async (ctx, request, header) => {
  const names = header.apiVersion >= 6 ? request.topics.map((t) => t.name ?? '') : request.topicNames;
  const responses: DeleteTopicsResponseDeletableTopicResult[] = [];
  for (const name of names) {
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
