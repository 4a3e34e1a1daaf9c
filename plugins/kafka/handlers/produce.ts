import { BrokerError, Compression, RecordBatch, checkClientBatch, validateRecordBatch, DEFAULT_MAX_MESSAGE_BYTES, type AppendResult } from '../../../core/index.ts';
import type { ProduceRequest, ProduceResponse, ProduceResponsePartitionProduceResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf, type KafkaErrorCode } from '../error-codes.ts';
import { NO_RESPONSE, type Handler, type KafkaContext } from '../kafka-context.ts';

type PartitionResult = Omit<ProduceResponsePartitionProduceResponse, 'index'>;

const failed = (errorCode: KafkaErrorCode, errorMessage: string | null = null): PartitionResult => ({
  errorCode,
  baseOffset: -1,
  logAppendTimeMs: -1,
  logStartOffset: -1,
  recordErrors: [],
  errorMessage,
  currentLeader: null,
});

/**
 * Validates each partition's single v2 batch (header, CRC-32C, idempotent sequence), patches its base
 * offset in place and appends the producer's bytes unchanged. Appends start before the first await,
 * so the requests of one connection are appended in order.
 */
export const handleProduce: Handler<ProduceRequest, ProduceResponse> = async (ctx, request, header) => {
  if (request.transactionalId !== null) {
    return respondAll(request, failed(KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'transactions are not supported by this broker'));
  }
  const pending = request.topicData.map((topic) => ({
    name: topic.name,
    partitions: topic.partitionData.map((p) => ({ index: p.index, result: appendPartition(ctx, topic.name, p.index, p.records, header.apiVersion) })),
  }));
  if (request.acks === 0) {
    for (const topic of pending) for (const p of topic.partitions) p.result.catch(() => undefined);
    return NO_RESPONSE;
  }
  const responses = await Promise.all(
    pending.map(async (topic) => ({
      name: topic.name,
      partitionResponses: await Promise.all(topic.partitions.map(async (p) => ({ index: p.index, ...(await p.result) }))),
    })),
  );
  return { responses, throttleTimeMs: 0, nodeEndpoints: [] };
};

function appendPartition(ctx: KafkaContext, topicName: string, partition: number, records: Buffer | readonly Buffer[] | null, version: number): Promise<PartitionResult> {
  const topic = ctx.visibleTopic(topicName);
  const log = topic ? ctx.topics.log(topicName, partition) : undefined;
  if (!topic || !log) return Promise.resolve(failed(KafkaError.UNKNOWN_TOPIC_OR_PARTITION));
  // As Kafka answers for a partition whose log directory failed: retriable, the producer retries.
  if (ctx.disk.readOnly) return Promise.resolve(failed(KafkaError.KAFKA_STORAGE_ERROR, 'the disk is below its free-space limit: the broker is read-only'));
  if (records === null || !Buffer.isBuffer(records) || records.length === 0) return Promise.resolve(failed(KafkaError.CORRUPT_MESSAGE, 'no records'));
  const maxBytes = topic.config.maxMessageBytes ?? ctx.settings.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (records.length > maxBytes) return Promise.resolve(failed(KafkaError.MESSAGE_TOO_LARGE, `batch of ${records.length} bytes exceeds ${maxBytes}`));
  let batch: RecordBatch;
  try {
    if (validateRecordBatch(records) !== records.length) return Promise.resolve(failed(KafkaError.INVALID_RECORD, 'exactly one record batch per partition'));
    checkClientBatch(records);
    batch = new RecordBatch(records);
    if (batch.compression === Compression.zstd && version < 7) return Promise.resolve(failed(KafkaError.CORRUPT_MESSAGE, 'zstd needs Produce v7'));
    if (batch.isTransactional) return Promise.resolve(failed(KafkaError.INVALID_RECORD, 'transactional batches are not supported'));
  } catch (err) {
    return Promise.resolve(failed(kafkaErrorOf(err), (err as Error).message));
  }
  const idempotent = { producerId: batch.producerId, producerEpoch: batch.producerEpoch, baseSequence: batch.baseSequence, lastOffsetDelta: batch.lastOffsetDelta };
  const state = ctx.producerState(topicName, partition);
  const check = state.check(idempotent);
  if (check.kind === 'error') return Promise.resolve(failed(check.error));
  if (check.kind === 'duplicate') {
    return Promise.resolve({ ...failed(KafkaError.NONE), baseOffset: check.baseOffset, logAppendTimeMs: check.logAppendTime, logStartOffset: log.logStartOffset });
  }
  const logAppendTime = topic.config.messageTimestampType === 'LogAppendTime' ? ctx.clock.now() : undefined;
  const endBefore = log.logEndOffset;
  let appended: Promise<AppendResult>;
  try {
    appended = log.append(records, logAppendTime === undefined ? undefined : { logAppendTime });
  } catch (err) {
    appended = Promise.reject(err);
  }
  if (log.logEndOffset > endBefore) state.record(idempotent, batch.baseOffset, logAppendTime ?? -1);
  return appended.then(
    (result) => ({ ...failed(KafkaError.NONE), baseOffset: result.baseOffset, logAppendTimeMs: result.logAppendTime, logStartOffset: log.logStartOffset }),
    (err: unknown) => {
      if (!BrokerError.is(err) || err.code === 'STORAGE_IO') ctx.logger.error({ err, topic: topicName, partition }, 'append failed');
      return failed(kafkaErrorOf(err), (err as Error).message);
    },
  );
}

function respondAll(request: ProduceRequest, result: PartitionResult): ProduceResponse {
  return {
    responses: request.topicData.map((t) => ({ name: t.name, partitionResponses: t.partitionData.map((p) => ({ index: p.index, ...result })) })),
    throttleTimeMs: 0,
    nodeEndpoints: [],
  };
}
