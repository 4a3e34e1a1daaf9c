import { BatchField, BrokerError, DEFAULT_MAX_MESSAGE_BYTES, RecordBatch, TRANSACTIONAL_FLAG, isCompacted, type AppendResult, type PartitionLog } from '../../../core/index.ts';
import type { ProduceRequest, ProduceResponse, ProduceResponsePartitionProduceResponse } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf, type KafkaErrorCode } from '../error-codes.ts';
import { CurrentLeaders } from '../current-leader.ts';
import { CLOSE_CONNECTION, NO_RESPONSE, type Handler, type KafkaContext } from '../kafka-context.ts';
import { checkBatchForLog, checkRequestRecords, requestRefusal } from '../produce-checks.ts';
import { afterVerification, clientVerificationError, verifyPartition } from '../transactions/partition-verification.ts';

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
 * so the requests of one connection are appended in order. With acks=0 nothing is answered, and a
 * refusal closes the connection, as Kafka tells such producers that something failed.
 */
export const handleProduce: Handler<ProduceRequest, ProduceResponse> = async (ctx, request, header, connection) => {
  const session = connection.session;
  const transactionalId = request.transactionalId;
  const transactionalAllowed = transactionalId !== null && session.allows('write', 'transactional-id', transactionalId);
  const refused = requestRefusal(request, (topic, partition) => session.allows('write', 'topic', topic) && !('error' in ctx.leaderLog(topic, partition)), transactionalAllowed);
  if (refused) return request.acks === 0 ? CLOSE_CONNECTION : respondAll(request, failed(refused.errorCode, refused.message));
  const pending = request.topicData.map((topic) => ({
    name: topic.name,
    partitions: topic.partitionData.map((p) => ({
      index: p.index,
      result: session.allows('write', 'topic', topic.name) ? appendPartition(ctx, topic.name, p.index, p.records, header.apiVersion, request.acks, request.timeoutMs, transactionalId) : UNAUTHORIZED,
    })),
  }));
  if (request.acks === 0) {
    let refusedAny = false;
    for (const topic of pending) {
      for (const { result } of topic.partitions) {
        if (result instanceof Promise) void result.then((r) => r.errorCode !== KafkaError.NONE && connection.close());
        else refusedAny ||= result.errorCode !== KafkaError.NONE;
      }
    }
    return refusedAny ? CLOSE_CONNECTION : NO_RESPONSE;
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
  if (header.apiVersion < 10) return { responses, throttleTimeMs: 0, nodeEndpoints: [] };
  const leaders = new CurrentLeaders(ctx, connection.listener);
  for (const t of responses) for (const p of t.partitionResponses) if (p.errorCode === KafkaError.NOT_LEADER_OR_FOLLOWER) p.currentLeader = leaders.of(t.name, p.index);
  return { responses, throttleTimeMs: 0, nodeEndpoints: leaders.endpoints() };
};

/** Kafka checks WRITE on the topic before anything else about the partition. */
const UNAUTHORIZED = failed(KafkaError.TOPIC_AUTHORIZATION_FAILED);

/** A refusal is answered at once; an append resolves (never rejects) when its result is known. */
function appendPartition(
  ctx: KafkaContext,
  topicName: string,
  partition: number,
  records: Buffer | readonly Buffer[] | null,
  version: number,
  acks: number,
  timeoutMs: number,
  transactionalId: string | null,
): PartitionResult | Promise<PartitionResult> {
  const leadership = ctx.leaderLog(topicName, partition);
  if ('error' in leadership) return failed(leadership.error);
  const topic = ctx.visibleTopic(topicName)!;
  const log = leadership.log;
  // As Kafka answers for a partition whose log directory failed: retriable, the producer retries.
  if (ctx.disk.readOnly) return failed(KafkaError.KAFKA_STORAGE_ERROR, 'the disk is below its free-space limit: the broker is read-only');
  const checked = checkRequestRecords(Buffer.isBuffer(records) ? records : null, version);
  if (!Buffer.isBuffer(checked)) return failed(checked.errorCode, checked.message);
  if (acks !== 0 && acks !== 1 && acks !== -1) return failed(KafkaError.INVALID_REQUIRED_ACKS, `acks must be -1, 0 or 1, not ${acks}`);
  const limits = {
    maxMessageBytes: topic.config.maxMessageBytes ?? ctx.settings.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    segmentBytes: log.config.segmentBytes,
    logAppendTime: topic.config.messageTimestampType === 'LogAppendTime',
    compacted: isCompacted(log.config),
  };
  const invalid = checkBatchForLog(checked, limits);
  if (invalid) return failed(invalid.errorCode, invalid.message);
  if ((checked.readInt16BE(BatchField.attributes) & TRANSACTIONAL_FLAG) === 0) return appendChecked(ctx, log, checked, topicName, partition, acks, timeoutMs, limits.logAppendTime);
  return verifiedAppend(ctx, log, checked, transactionalId, topicName, partition, version, () => appendChecked(ctx, log, checked, topicName, partition, acks, timeoutMs, limits.logAppendTime));
}

/** The producer-state check and the append of a batch that passed every other check. */
function appendChecked(ctx: KafkaContext, log: PartitionLog, checked: Buffer, topicName: string, partition: number, acks: number, timeoutMs: number, logAppendTime: boolean): PartitionResult | Promise<PartitionResult> {
  const check = log.producerState.check(checked);
  if (check.kind === 'rejected') return failed(kafkaErrorOf(check.error), check.error.message);
  if (check.kind === 'duplicate') {
    // As Kafka: success with the original offsets, its timestamp as logAppendTime, once the original is committed.
    const original = { ...failed(KafkaError.NONE), baseOffset: check.baseOffset, logAppendTimeMs: check.timestamp };
    return committed(ctx, log, check.lastOffset + 1, timeoutMs).then((done) => (done ? { ...original, logStartOffset: log.logStartOffset } : failed(KafkaError.REQUEST_TIMED_OUT)));
  }
  const stampedAt = logAppendTime ? ctx.clock.now() : undefined;
  let appended: Promise<AppendResult>;
  try {
    appended = log.append(checked, { acks: acks === -1 ? 'all' : 'leader', logAppendTime: stampedAt });
  } catch (err) {
    appended = Promise.reject(err);
  }
  return appended.then(
    (result) => {
      const traffic = ctx.traffic.topic(topicName);
      traffic.messagesIn += result.lastOffset - result.baseOffset + 1;
      traffic.bytesIn += checked.length;
      return { ...failed(KafkaError.NONE), baseOffset: result.baseOffset, logAppendTimeMs: result.logAppendTime, logStartOffset: log.logStartOffset };
    },
    (err: unknown) => {
      if (!BrokerError.is(err) || err.code === 'STORAGE_IO') ctx.logger.error({ err, topic: topicName, partition }, 'append failed');
      return failed(kafkaErrorOf(err), (err as Error).message);
    },
  );
}

/**
 * A transactional batch is appended only inside its producer's open transaction (Kafka's partition
 * verification, see partition-verification.ts); the guard check and `append` run in one turn.
 */
function verifiedAppend(
  ctx: KafkaContext,
  log: PartitionLog,
  batch: Buffer,
  transactionalId: string | null,
  topic: string,
  partition: number,
  version: number,
  append: () => PartitionResult | Promise<PartitionResult>,
): PartitionResult | Promise<PartitionResult> {
  if (transactionalId === null) return failed(KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  if (ctx.transactions === undefined) return failed(KafkaError.COORDINATOR_NOT_AVAILABLE);
  const header = new RecordBatch(batch);
  const verification = verifyPartition(ctx.transactions, log, ctx.clock.now(), transactionalId, header.producerId, header.producerEpoch, topic, partition);
  if (verification === undefined) return append();
  // A promise of the append's promise is, once awaited, the append's result.
  return afterVerification(verification, append, (errorCode) => verificationRefusal(errorCode, version)) as PartitionResult | Promise<PartitionResult>;
}

const ERROR_NAMES = new Map<number, string>(Object.entries(KafkaError).map(([name, code]) => [code, name]));

/**
 * The coordinator's answer as a producer reads it (Kafka's AddPartitionsToTxnManager and
 * ReplicaManager.handleProduceAppend): PRODUCER_FENCED is INVALID_PRODUCER_EPOCH, TRANSACTION_ABORTABLE
 * is INVALID_TXN_STATE before Produce v11, and the retriable ones are NOT_ENOUGH_REPLICAS, which every
 * client retries without a metadata refresh.
 */
function verificationRefusal(errorCode: KafkaErrorCode, version: number): PartitionResult {
  // The spent guard is the log's refusal; the coordinator's own is TRANSACTION_ABORTABLE.
  if (errorCode === KafkaError.INVALID_TXN_STATE) return failed(errorCode, 'Record was not part of an ongoing transaction');
  const answered = clientVerificationError(errorCode, version > 10);
  switch (answered) {
    case KafkaError.INVALID_TXN_STATE:
      return failed(answered, 'Partition was not added to the transaction');
    case KafkaError.CONCURRENT_TRANSACTIONS:
    case KafkaError.NETWORK_EXCEPTION:
    case KafkaError.COORDINATOR_LOAD_IN_PROGRESS:
    case KafkaError.COORDINATOR_NOT_AVAILABLE:
    case KafkaError.NOT_COORDINATOR:
      return failed(KafkaError.NOT_ENOUGH_REPLICAS, `Unable to verify the partition has been added to the transaction. Underlying error: ${ERROR_NAMES.get(answered)}`);
    default:
      return failed(answered);
  }
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
