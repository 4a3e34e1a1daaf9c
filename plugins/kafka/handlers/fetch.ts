import { BATCH_HEADER_SIZE, BatchField, BrokerError, LOG_OVERHEAD, firstEventOrTimeout, readInt64, type PartitionLog, type ReadResult } from '../../../core/index.ts';
import type { FetchRequest, FetchResponse, FetchResponseFetchableTopicResponse, FetchResponsePartitionData } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { FetchPartition } from '../fetch-sessions.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';
import { CurrentLeaders } from '../current-leader.ts';
import { recordsIn } from '../kafka-traffic.ts';
import { leaderEpochsOf } from '../leader-epochs.ts';
import { NO_TOPIC_ID } from '../topic-ids.ts';

/**
 * Reads stored batches and hands their bytes to the response as they are. Waits (long poll) up to
 * maxWaitMs for minBytes, woken when a requested partition's high watermark moves. The partitions come
 * from the request or, for an incremental fetch, from its session (KIP-227), which also decides which of
 * them the response carries.
 */
export const handleFetch: Handler<FetchRequest, FetchResponse> = async (ctx, request, header, connection) => {
  const context = ctx.fetchSessions.contextFor(request, header.apiVersion, (id) => ctx.topicIds.nameOf(id));
  if (context.error !== undefined) return response(context.error, NO_SESSION, []);
  const wanted = context.partitions;
  const deadline = ctx.clock.now() + Math.max(0, request.maxWaitMs);
  const session = connection.session;
  const readable = wanted.map((w) => session.allows('read', 'topic', w.topic));
  const readCommitted = request.isolationLevel === READ_COMMITTED;
  const clientId = header.clientId ?? '';
  const maxBytes = Math.min(request.maxBytes, ctx.quotas.maxFetchBytes(session.principal, clientId));
  let results = await readAll(ctx, wanted, readable, maxBytes, readCommitted);
  // Partitions the principal may not read are answered TOPIC_AUTHORIZATION_FAILED; the others long-poll as usual.
  const mayWait = readable.includes(true);
  while (mayWait && bytesOf(results) < request.minBytes && ctx.clock.now() < deadline && !results.some((r) => r.errorCode !== KafkaError.NONE && r.errorCode !== KafkaError.TOPIC_AUTHORIZATION_FAILED)) {
    await changeOrDeadline(ctx, wanted, deadline);
    results = await readAll(ctx, wanted, readable, maxBytes, readCommitted);
  }
  // Over its consumer_byte_rate quota: an empty answer with the throttle time, then a muted connection (KIP-219).
  const throttleTimeMs = ctx.quotas.recordFetch(session.principal, clientId, bytesOf(results), ctx.clock.now());
  if (throttleTimeMs > 0) {
    connection.throttle(throttleTimeMs);
    return { ...response(KafkaError.NONE, context.throttledSessionId, []), throttleTimeMs };
  }
  const { sessionId, include } = context.respond(
    results.map((r) => ({ errorCode: r.errorCode, highWatermark: r.highWatermark, logStartOffset: r.logStartOffset, bytes: (r.records as Buffer | null)?.length ?? 0 })),
  );
  const byTopic = new Map<string, FetchResponseFetchableTopicResponse>();
  for (const i of include) {
    const { topic, topicId } = wanted[i]!;
    const result = results[i]!;
    // Before v13 topicId is the one shared zero buffer, so the topics group by name; from v13 by id.
    const key = topicId === NO_TOPIC_ID ? topic : topicId.toString('hex');
    const entry = byTopic.get(key);
    if (entry) entry.partitions.push(result);
    else byTopic.set(key, { topic, topicId, partitions: [result] });
    const records = result.records as Buffer | null;
    if (records !== null && records.length > 0) {
      const traffic = ctx.traffic.topic(topic);
      traffic.bytesOut += records.length;
      traffic.messagesOut += recordsIn(records);
    }
  }
  const responses = [...byTopic.values()];
  if (header.apiVersion < 16) return response(KafkaError.NONE, sessionId, responses);
  const leaders = new CurrentLeaders(ctx, connection.listener);
  for (const t of responses) for (const p of t.partitions) if (p.errorCode === KafkaError.NOT_LEADER_OR_FOLLOWER || p.errorCode === KafkaError.FENCED_LEADER_EPOCH) p.currentLeader = leaders.of(t.topic, p.partitionIndex);
  return { ...response(KafkaError.NONE, sessionId, responses), nodeEndpoints: leaders.endpoints() };
};

const NO_SESSION = 0;
/** FetchRequest isolation_level: 0 read_uncommitted, 1 read_committed (stops at the last stable offset). */
const READ_COMMITTED = 1;

function response(errorCode: number, sessionId: number, responses: FetchResponse['responses']): FetchResponse {
  return { throttleTimeMs: 0, errorCode, sessionId, responses, nodeEndpoints: [] };
}

/**
 * Reads every partition within the response's maxBytes (the first batch with data always goes, as Kafka's
 * minOneMessage); the partitions share what is left. A read_committed fetch reads up to the last stable
 * offset and is told the aborted transactions in what it got.
 */
async function readAll(ctx: KafkaContext, wanted: readonly FetchPartition[], readable: readonly boolean[], maxBytes: number, readCommitted: boolean): Promise<FetchResponsePartitionData[]> {
  let budget = maxBytes;
  let anyData = false;
  const out: FetchResponsePartitionData[] = [];
  for (let i = 0; i < wanted.length; i++) {
    const w = wanted[i]!;
    if (w.topic === '' && w.topicId !== NO_TOPIC_ID) {
      out.push(partitionError(w.partition, KafkaError.UNKNOWN_TOPIC_ID, -1, -1));
      continue;
    }
    if (!readable[i]) {
      out.push(partitionError(w.partition, KafkaError.TOPIC_AUTHORIZATION_FAILED, -1, -1));
      continue;
    }
    const leadership = ctx.leaderLog(w.topic, w.partition, w.currentLeaderEpoch);
    if ('error' in leadership) {
      out.push(partitionError(w.partition, leadership.error, -1, -1));
      continue;
    }
    const log = leadership.log;
    if (w.lastFetchedEpoch >= 0) {
      const diverged = divergence(ctx, w, log);
      if (diverged !== undefined) {
        out.push(diverged);
        continue;
      }
    }
    try {
      const skip: boolean = anyData && budget <= 0;
      const lastStableOffset = log.lastStableOffset;
      const { records, highWatermark, logStartOffset }: ReadResult = skip
        ? { records: EMPTY, highWatermark: log.highWatermark, logStartOffset: log.logStartOffset }
        : await log.read(w.fetchOffset, Math.max(1, Math.min(w.maxBytes, budget)), readCommitted ? lastStableOffset : undefined);
      budget -= records.length;
      anyData ||= records.length > 0;
      const result = { ...partitionError(w.partition, KafkaError.NONE, highWatermark, logStartOffset), lastStableOffset, records };
      if (readCommitted && records.length > 0) result.abortedTransactions = log.abortedTransactions(w.fetchOffset, endOffsetOf(records)).map(({ producerId, firstOffset }) => ({ producerId, firstOffset }));
      out.push(result);
    } catch (err) {
      if (!BrokerError.is(err, 'OFFSET_OUT_OF_RANGE')) ctx.logger.error({ err, topic: w.topic, partition: w.partition }, 'fetch failed');
      out.push(partitionError(w.partition, kafkaErrorOf(err), log.highWatermark, log.logStartOffset));
    }
  }
  return out;
}

/**
 * Kafka's readRecords check of `last_fetched_epoch` (v12+, KIP-595): when that epoch ended on this leader
 * before the fetch offset, or the leader never had it, the answer is no records and the diverging epoch
 * (where the client's log must be cut); an epoch the leader cannot place, or an offset before the log
 * start, is OFFSET_OUT_OF_RANGE. Undefined when the client's log agrees with the leader's.
 */
function divergence(ctx: KafkaContext, w: FetchPartition, log: PartitionLog): FetchResponsePartitionData | undefined {
  const end = leaderEpochsOf(ctx, w.topic, w.partition, log).requestedEndOffset(w.lastFetchedEpoch, log.logEndOffset);
  if (end.epoch < 0 || end.endOffset < 0 || w.fetchOffset < log.logStartOffset) return partitionError(w.partition, KafkaError.OFFSET_OUT_OF_RANGE, log.highWatermark, log.logStartOffset);
  if (end.epoch >= w.lastFetchedEpoch && end.endOffset >= w.fetchOffset) return undefined;
  return { ...partitionError(w.partition, KafkaError.NONE, log.highWatermark, log.logStartOffset), lastStableOffset: log.lastStableOffset, divergingEpoch: { epoch: end.epoch, endOffset: end.endOffset }, records: EMPTY };
}

function partitionError(partition: number, errorCode: number, highWatermark: number, logStartOffset: number): FetchResponsePartitionData {
  return {
    partitionIndex: partition,
    errorCode,
    highWatermark,
    lastStableOffset: highWatermark,
    logStartOffset,
    divergingEpoch: null,
    currentLeader: null,
    snapshotId: null,
    abortedTransactions: [],
    preferredReadReplica: -1,
    records: null,
  };
}

/** The offset after the last whole batch of `records` (Kafka bounds the aborted transactions it reports by it). */
function endOffsetOf(records: Buffer): number {
  let end = 0;
  for (let pos = 0; pos + BATCH_HEADER_SIZE <= records.length; pos += LOG_OVERHEAD + records.readInt32BE(pos + BatchField.batchLength)) {
    end = readInt64(records, pos + BatchField.baseOffset) + records.readInt32BE(pos + BatchField.lastOffsetDelta) + 1;
  }
  return end;
}

function bytesOf(results: readonly FetchResponsePartitionData[]): number {
  let total = 0;
  for (const r of results) total += (r.records as Buffer | null)?.length ?? 0;
  return total;
}

/** Resolves when any requested partition's high watermark moves, or at the deadline. */
function changeOrDeadline(ctx: KafkaContext, wanted: readonly FetchPartition[], deadline: number): Promise<void> {
  const logs = wanted.flatMap((w) => ctx.topics.log(w.topic, w.partition) ?? []);
  return firstEventOrTimeout(ctx.clock, deadline - ctx.clock.now(), logs.map((log) => (wake) => log.watch(wake)));
}

const EMPTY = Buffer.alloc(0);
