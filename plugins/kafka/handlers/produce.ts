import { BrokerError, Compression, RecordBatch, checkClientBatch, validateRecordBatch, DEFAULT_MAX_MESSAGE_BYTES, type Acks, type AppendResult, type PartitionLog } from '../../../core/index.ts';
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
    partitions: topic.partitionData.map((p) => ({
      index: p.index,
      result: appendPartition(ctx, topic.name, p.index, p.records, header.apiVersion, request.acks === -1 ? 'all' : 'leader', request.timeoutMs),
    })),
  }));
  if (request.acks === 0) {
    for (const topic of pending) for (const p of topic.partitions) p.result.catch(() => undefined);
    return NO_RESPONSE;
  }
  const timedOut = failed(KafkaError.REQUEST_TIMED_OUT, `not committed within the request's ${request.timeoutMs} ms`);
  let timer: ReturnType<typeof ctx.clock.setTimeout> | undefined;
  const deadline = new Promise<PartitionResult>((resolve) => (timer = ctx.clock.setTimeout(() => resolve(timedOut), Math.max(0, request.timeoutMs))));
  const responses = await Promise.all(
    pending.map(async (topic) => ({
      name: topic.name,
      partitionResponses: await Promise.all(topic.partitions.map(async (p) => ({ index: p.index, ...(await Promise.race([p.result, deadline])) }))),
    })),
  );
  timer?.cancel();
  return { responses, throttleTimeMs: 0, nodeEndpoints: [] };
};

function appendPartition(
  ctx: KafkaContext,
  topicName: string,
  partition: number,
  records: Buffer | readonly Buffer[] | null,
  version: number,
  acks: Acks,
  timeoutMs: number,
): Promise<PartitionResult> {
  const leadership = ctx.leaderLog(topicName, partition);
  if ('error' in leadership) return Promise.resolve(failed(leadership.error));
  const topic = ctx.visibleTopic(topicName)!;
  const log = leadership.log;
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
  const check = log.producerState.check(records);
  if (check.kind === 'rejected') return Promise.resolve(failed(kafkaErrorOf(check.error), check.error.message));
  if (check.kind === 'duplicate') {
    // As Kafka: success with the original offsets, its timestamp as logAppendTime, once the original is committed.
    const original = { ...failed(KafkaError.NONE), baseOffset: check.baseOffset, logAppendTimeMs: check.timestamp };
    return committed(ctx, log, check.lastOffset + 1, timeoutMs).then((done) => (done ? { ...original, logStartOffset: log.logStartOffset } : failed(KafkaError.REQUEST_TIMED_OUT)));
  }
  const logAppendTime = topic.config.messageTimestampType === 'LogAppendTime' ? ctx.clock.now() : undefined;
  let appended: Promise<AppendResult>;
  try {
    appended = log.append(records, { acks, logAppendTime });
  } catch (err) {
    appended = Promise.reject(err);
  }
  return appended.then(
    (result) => ({ ...failed(KafkaError.NONE), baseOffset: result.baseOffset, logAppendTimeMs: result.logAppendTime, logStartOffset: log.logStartOffset }),
    (err: unknown) => {
      if (!BrokerError.is(err) || err.code === 'STORAGE_IO') ctx.logger.error({ err, topic: topicName, partition }, 'append failed');
      return failed(kafkaErrorOf(err), (err as Error).message);
    },
  );
}

/** Resolves true once the high watermark reaches `endOffset`, false after `timeoutMs` (Kafka's delayed produce). */
function committed(ctx: KafkaContext, log: PartitionLog, endOffset: number, timeoutMs: number): Promise<boolean> {
  if (log.highWatermark >= endOffset) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = ctx.clock.setTimeout(() => {
      unwatch();
      resolve(false);
    }, Math.max(0, timeoutMs));
    const unwatch = log.watch((highWatermark) => {
      if (highWatermark < endOffset) return;
      timer.cancel();
      unwatch();
      resolve(true);
    });
  });
}

function respondAll(request: ProduceRequest, result: PartitionResult): ProduceResponse {
  return {
    responses: request.topicData.map((t) => ({ name: t.name, partitionResponses: t.partitionData.map((p) => ({ index: p.index, ...result })) })),
    throttleTimeMs: 0,
    nodeEndpoints: [],
  };
}
