import { BrokerError, firstEventOrTimeout, type ReadResult } from '../../../core/index.ts';
import type { FetchRequest, FetchResponse, FetchResponsePartitionData } from '../codec/index.ts';
import { KafkaError, kafkaErrorOf } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';

interface Wanted {
  topic: string;
  partition: number;
  offset: number;
  maxBytes: number;
  currentLeaderEpoch: number;
}

/**
 * Reads stored batches and hands their bytes to the response as they are. Waits (long poll) up to
 * maxWaitMs for minBytes, woken when a requested partition's high watermark moves.
 */
export const handleFetch: Handler<FetchRequest, FetchResponse> = async (ctx, request, _header, connection) => {
  const wanted: Wanted[] = request.topics.flatMap((t) =>
    t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: p.fetchOffset, maxBytes: p.partitionMaxBytes, currentLeaderEpoch: p.currentLeaderEpoch })),
  );
  const deadline = ctx.clock.now() + Math.max(0, request.maxWaitMs);
  const session = connection.session;
  const readable = wanted.map((w) => session.allows('read', 'topic', w.topic));
  let results = await readAll(ctx, wanted, readable, request.maxBytes);
  // Partitions the principal may not read are answered TOPIC_AUTHORIZATION_FAILED; the others long-poll as usual.
  const mayWait = readable.includes(true);
  while (mayWait && bytesOf(results) < request.minBytes && ctx.clock.now() < deadline && !results.some((r) => r.errorCode !== KafkaError.NONE && r.errorCode !== KafkaError.TOPIC_AUTHORIZATION_FAILED)) {
    await changeOrDeadline(ctx, wanted, deadline);
    results = await readAll(ctx, wanted, readable, request.maxBytes);
  }
  const byTopic = new Map<string, FetchResponsePartitionData[]>();
  results.forEach((result, i) => {
    const topic = wanted[i]!.topic;
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), result]);
  });
  return {
    throttleTimeMs: 0,
    errorCode: KafkaError.NONE,
    sessionId: 0,
    responses: [...byTopic].map(([topic, partitions]) => ({ topic, topicId: NO_TOPIC_ID, partitions })),
    nodeEndpoints: [],
  };
};

const NO_TOPIC_ID = Buffer.alloc(16);

/** Reads every partition; after the first one with data, the rest share what is left of maxBytes. */
async function readAll(ctx: KafkaContext, wanted: readonly Wanted[], readable: readonly boolean[], maxBytes: number): Promise<FetchResponsePartitionData[]> {
  let budget = maxBytes;
  let anyData = false;
  const out: FetchResponsePartitionData[] = [];
  for (let i = 0; i < wanted.length; i++) {
    const w = wanted[i]!;
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
    try {
      const skip: boolean = anyData && budget <= 0;
      const { records, highWatermark, logStartOffset }: ReadResult = skip
        ? { records: EMPTY, highWatermark: log.highWatermark, logStartOffset: log.logStartOffset }
        : await log.read(w.offset, Math.max(1, anyData ? Math.min(w.maxBytes, budget) : w.maxBytes));
      budget -= records.length;
      anyData ||= records.length > 0;
      out.push({ ...partitionError(w.partition, KafkaError.NONE, highWatermark, logStartOffset), records });
    } catch (err) {
      if (!BrokerError.is(err, 'OFFSET_OUT_OF_RANGE')) ctx.logger.error({ err, topic: w.topic, partition: w.partition }, 'fetch failed');
      out.push(partitionError(w.partition, kafkaErrorOf(err), log.highWatermark, log.logStartOffset));
    }
  }
  return out;
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

function bytesOf(results: readonly FetchResponsePartitionData[]): number {
  let total = 0;
  for (const r of results) total += (r.records as Buffer | null)?.length ?? 0;
  return total;
}

/** Resolves when any requested partition's high watermark moves, or at the deadline. */
function changeOrDeadline(ctx: KafkaContext, wanted: readonly Wanted[], deadline: number): Promise<void> {
  const logs = wanted.flatMap((w) => ctx.topics.log(w.topic, w.partition) ?? []);
  return firstEventOrTimeout(ctx.clock, deadline - ctx.clock.now(), logs.map((log) => (wake) => log.watch(wake)));
}

const EMPTY = Buffer.alloc(0);
