import type { Caller, RocketContext, WireResource } from '../rocket-context.ts';
import { toMillis, toWireMessage, type Duration } from '../model/message-record.ts';
import { compileFilter, type WireFilterExpression } from '../model/subscription-filter.ts';
import { OK, RocketError, statusOf } from '../status.ts';
import { requireName } from './route.ts';

interface ReceiveMessageRequest {
  group?: WireResource;
  messageQueue?: { topic?: WireResource; id?: number };
  filterExpression?: WireFilterExpression;
  batchSize?: number;
  invisibleDuration?: Duration;
  autoRenew?: boolean;
  longPollingTimeout?: Duration;
}

const MAX_BATCH = 1024;
const MIN_INVISIBLE_MS = 1000;
const MAX_INVISIBLE_MS = 12 * 3600 * 1000;

/** Pops messages for the caller's group, long polling; writes them, then the status, to the stream. */
export async function receiveMessage(ctx: RocketContext, request: ReceiveMessageRequest, caller: Caller, write: (response: object) => void): Promise<void> {
  try {
    const group = requireName(request.group, 'group');
    const topic = await ctx.topics.require(requireName(request.messageQueue?.topic, 'topic'));
    if (ctx.topics.permission(topic) === 'WRITE') throw new RocketError('FORBIDDEN', `topic ${topic.name} is not readable`);
    const batchSize = request.batchSize ?? 0;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) throw new RocketError('BAD_REQUEST', `batch size must be in [1, ${MAX_BATCH}]`);
    const autoRenew = request.autoRenew === true;
    const invisibleMs = autoRenew && !request.invisibleDuration ? ctx.settings.pushInvisibleMs : (toMillis(request.invisibleDuration) ?? -1);
    if (invisibleMs < MIN_INVISIBLE_MS || invisibleMs > MAX_INVISIBLE_MS) {
      throw new RocketError('ILLEGAL_INVISIBLE_TIME', `invisible duration must be in [${MIN_INVISIBLE_MS}, ${MAX_INVISIBLE_MS}] ms`);
    }
    const pollMs = toMillis(request.longPollingTimeout) ?? 0;
    if (pollMs < 0) throw new RocketError('ILLEGAL_POLLING_TIME', 'long polling timeout is negative');
    const filter = compileFilter(request.filterExpression);
    const session = ctx.clients.get(caller.clientId);
    const queueId = request.messageQueue?.id ?? 0;
    const singleQueue = session?.type === 'PUSH_CONSUMER' && ctx.groups.isFifo(group) && queueId >= 0;
    const now = ctx.clock.now();
    const { delivered } = await ctx.groups.receive({
      group,
      topic,
      max: batchSize,
      filter,
      invisibleMs,
      autoRenew,
      clientId: caller.clientId,
      queue: singleQueue ? queueId : undefined,
      until: now + Math.min(pollMs, ctx.settings.maxLongPollingMs),
      signal: caller.signal,
    });
    if (delivered.length === 0) {
      write({ status: { code: 'MESSAGE_NOT_FOUND', message: 'no new message' } });
      return;
    }
    write({ deliveryTimestamp: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1e6 } });
    const traffic = ctx.traffic.group(group, topic.name);
    traffic.messagesOut += delivered.length;
    for (const { queue, message, receiptHandle, attempt } of delivered) {
      traffic.bytesOut += message.value?.length ?? 0;
      if (attempt > 1) traffic.redeliveries++;
      const wire = toWireMessage(message.headers, message.value ?? Buffer.alloc(0), {
        topic: topic.name,
        queueId: queue,
        offset: message.offset,
        storedAt: message.timestamp,
        storeHost: ctx.storeHost,
        receiptHandle,
        invisibleMs,
        attempt,
      });
      write({ message: wire });
    }
    write({ status: OK });
  } catch (err) {
    write({ status: statusOf(err) });
  }
}

interface AckMessageRequest {
  group?: WireResource;
  topic?: WireResource;
  entries?: Array<{ messageId?: string; receiptHandle?: string }>;
}

export async function ackMessage(ctx: RocketContext, request: AckMessageRequest): Promise<object> {
  const group = requireName(request.group, 'group');
  const topic = await ctx.topics.require(requireName(request.topic, 'topic'));
  const entries = [];
  const traffic = ctx.traffic.group(group, topic.name);
  for (const entry of request.entries ?? []) {
    try {
      await ctx.groups.ack(group, topic, entry.receiptHandle ?? '');
      traffic.acks++;
      entries.push({ messageId: entry.messageId ?? '', receiptHandle: entry.receiptHandle ?? '', status: OK });
    } catch (err) {
      entries.push({ messageId: entry.messageId ?? '', receiptHandle: entry.receiptHandle ?? '', status: statusOf(err) });
    }
  }
  if (entries.length === 0) throw new RocketError('BAD_REQUEST', 'no entries to acknowledge');
  const failed = entries.find((e) => e.status.code !== 'OK');
  return { status: entries.length === 1 ? entries[0]!.status : failed ? { code: 'MULTIPLE_RESULTS', message: 'some entries failed' } : OK, entries };
}

interface ChangeInvisibleDurationRequest {
  group?: WireResource;
  topic?: WireResource;
  receiptHandle?: string;
  invisibleDuration?: Duration;
  messageId?: string;
}

export async function changeInvisibleDuration(ctx: RocketContext, request: ChangeInvisibleDurationRequest): Promise<object> {
  const group = requireName(request.group, 'group');
  const topic = await ctx.topics.require(requireName(request.topic, 'topic'));
  const invisibleMs = toMillis(request.invisibleDuration) ?? -1;
  if (invisibleMs < 0 || invisibleMs > MAX_INVISIBLE_MS) throw new RocketError('ILLEGAL_INVISIBLE_TIME', `invisible duration must be in [0, ${MAX_INVISIBLE_MS}] ms`);
  const receiptHandle = await ctx.groups.changeInvisibleDuration(group, topic, request.receiptHandle ?? '', invisibleMs);
  return { status: OK, receiptHandle };
}

interface ForwardRequest {
  group?: WireResource;
  topic?: WireResource;
  receiptHandle?: string;
  messageId?: string;
}

export async function forwardMessageToDeadLetterQueue(ctx: RocketContext, request: ForwardRequest): Promise<object> {
  const group = requireName(request.group, 'group');
  const topic = await ctx.topics.require(requireName(request.topic, 'topic'));
  await ctx.groups.forwardToDeadLetterQueue(group, topic, request.receiptHandle ?? '');
  return { status: OK };
}
