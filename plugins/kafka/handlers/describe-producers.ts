import type { DescribeProducersRequest, DescribeProducersResponse, DescribeProducersResponsePartitionResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

/** Kafka's handleDescribeProducersRequest: READ on the topic, then the producers the partition's log knows (its leader answers). */
export const handleDescribeProducers: Handler<DescribeProducersRequest, DescribeProducersResponse> = (ctx, request, _header, connection) => ({
  throttleTimeMs: 0,
  topics: request.topics.map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((partitionIndex): DescribeProducersResponsePartitionResponse => {
      const answer = (errorCode: number, activeProducers: DescribeProducersResponsePartitionResponse['activeProducers'] = []) => ({ partitionIndex, errorCode, errorMessage: null, activeProducers });
      if (!connection.session.allows('read', 'topic', t.name)) return answer(KafkaError.TOPIC_AUTHORIZATION_FAILED);
      const leadership = ctx.leaderLog(t.name, partitionIndex);
      if ('error' in leadership) return answer(leadership.error);
      return answer(KafkaError.NONE, leadership.log.producerState.describe());
    }),
  })),
});
