import type { Caller, RocketContext, WireResource } from '../rocket-context.ts';
import { toWireMessage } from '../model/message-record.ts';
import { transactionHeaders, type PendingTransaction } from '../model/transactions.ts';
import { OK, RocketError } from '../status.ts';
import { requireName } from './route.ts';

interface EndTransactionRequest {
  topic?: WireResource;
  messageId?: string;
  transactionId?: string;
  resolution?: string;
  source?: string;
}

export async function endTransaction(ctx: RocketContext, request: EndTransactionRequest, _caller: Caller): Promise<object> {
  const topic = requireName(request.topic, 'topic');
  if (!request.transactionId) throw new RocketError('INVALID_TRANSACTION_ID', 'transaction id is empty');
  if (request.resolution !== 'COMMIT' && request.resolution !== 'ROLLBACK') throw new RocketError('BAD_REQUEST', 'resolution must be COMMIT or ROLLBACK');
  await ctx.transactions.end(topic, request.messageId ?? '', request.transactionId, request.resolution === 'COMMIT');
  return { status: OK };
}

/** Pushes RecoverOrphanedTransactionCommand to a producer of the topic (the sender first). */
export function checkBack(ctx: RocketContext, pending: PendingTransaction): boolean {
  const producer = ctx.clients.producersOf(pending.topic, pending.producer)[0];
  if (!producer?.telemetry) return false;
  const headers = pending.message.headers.filter((h) => !transactionHeaders.has(h.key));
  const message = toWireMessage(headers, pending.message.value ?? Buffer.alloc(0), {
    topic: pending.topic,
    queueId: pending.queue,
    offset: pending.message.offset,
    storedAt: pending.message.timestamp,
    storeHost: ctx.storeHost,
  });
  producer.telemetry.write({ recoverOrphanedTransactionCommand: { message, transactionId: pending.transactionId } });
  return true;
}
