import type { CreatePartitionsRequest, CreatePartitionsResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

/** Grows topics (ALTER on each); groups subscribed to them rebalance (the coordinator watches partition counts). */
export const handleCreatePartitions: Handler<CreatePartitionsRequest, CreatePartitionsResponse> = async (ctx, request, _header, connection) => {
  const results = [];
  for (const topic of request.topics) {
    if (!connection.session.allows('alter', 'topic', topic.name)) {
      results.push({ name: topic.name, errorCode: KafkaError.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'The topic authorization is failed.' });
      continue;
    }
    if (!ctx.visibleTopic(topic.name)) {
      results.push({ name: topic.name, errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null });
      continue;
    }
    try {
      await ctx.topics.addPartitions(topic.name, topic.count, request.validateOnly);
      results.push({ name: topic.name, errorCode: KafkaError.NONE, errorMessage: null });
    } catch (err) {
      results.push({ name: topic.name, errorCode: kafkaErrorOf(err), errorMessage: (err as Error).message });
    }
  }
  return { throttleTimeMs: 0, results };
};
