import type { RecordInput, TopicDescriptor } from '../../../core/index.ts';
import type { Caller, RocketContext, WireResource } from '../rocket-context.ts';
import type { MessageType } from '../model/message-types.ts';
import { checkMessage, toMillis, toRecord, type WireMessage } from '../model/message-record.ts';
import { diskFull, OK, RocketError, statusOf, type Status } from '../status.ts';
import { requireName } from './route.ts';

interface SendResultEntry {
  status: Status;
  messageId?: string;
  transactionId?: string;
  offset?: number;
  recallHandle?: string;
}

export async function sendMessage(ctx: RocketContext, request: { messages?: WireMessage[] }, caller: Caller): Promise<object> {
  const messages = request.messages ?? [];
  if (messages.length === 0) throw new RocketError('BAD_REQUEST', 'no messages to send');
  const entries = await Promise.all(messages.map((m) => sendOne(ctx, m, caller).catch((err: unknown): SendResultEntry => ({ status: statusOf(err), messageId: m.systemProperties?.messageId ?? '' }))));
  const failed = entries.find((e) => e.status.code !== 'OK');
  return { status: failed?.status ?? OK, entries };
}

async function sendOne(ctx: RocketContext, message: WireMessage, caller: Caller): Promise<SendResultEntry> {
  const type = checkMessage(message, ctx.settings);
  const topic = await ctx.topics.require(message.topic!.name!);
  if (ctx.topics.permission(topic) === 'READ') throw new RocketError('FORBIDDEN', `topic ${topic.name} is not writable`);
  ctx.topics.checkAccepts(topic, type);
  if (ctx.disk.readOnly) throw diskFull(ctx.disk.freeBytes);
  const now = ctx.clock.now();
  const queue = ctx.topics.pickQueue(topic, message.systemProperties!.messageGroup);
  const record = toRecord(message, type, now);
  const entry = await store(ctx, topic, queue, record, type, message, caller, now);
  const traffic = ctx.traffic.topic(topic.name);
  traffic.messagesIn++;
  traffic.bytesIn += record.value?.length ?? 0;
  return entry;
}

/** Stores one message by its type: appended, scheduled (DELAY) or held as a half message (TRANSACTION). */
async function store(ctx: RocketContext, topic: TopicDescriptor, queue: number, record: RecordInput, type: MessageType, message: WireMessage, caller: Caller, now: number): Promise<SendResultEntry> {
  const system = message.systemProperties!;
  const messageId = system.messageId!;
  switch (type) {
    case 'DELAY': {
      const deliverAt = toMillis(system.deliveryTimestamp)!;
      if (deliverAt - now > ctx.settings.maxDelayMs) throw new RocketError('ILLEGAL_DELIVERY_TIME', `delivery time is more than ${ctx.settings.maxDelayMs} ms ahead`);
      const recallHandle = await ctx.delayed.schedule(topic, queue, record, deliverAt);
      return { status: OK, messageId, offset: -1, recallHandle };
    }
    case 'TRANSACTION': {
      const transactionId = await ctx.transactions.prepare(topic, queue, record, caller.clientId, toMillis(system.orphanedTransactionRecoveryDuration));
      return { status: OK, messageId, transactionId, offset: -1 };
    }
    default:
      return { status: OK, messageId, offset: await ctx.topics.append(topic, queue, record) };
  }
}

export async function recallMessage(ctx: RocketContext, request: { topic?: WireResource; recallHandle?: string }): Promise<object> {
  const topic = await ctx.topics.require(requireName(request.topic, 'topic'));
  const messageId = await ctx.delayed.recall(topic, request.recallHandle ?? '');
  return { status: OK, messageId };
}
