import type { AckQueue, QueuedMessage, TopicDescriptor } from '../../../core/index.ts';
import { RocketError } from '../status.ts';
import type { RetryPolicy } from './retry-policy.ts';
import type { MessageFilter } from './subscription-filter.ts';

/** Who holds an in-flight message and how: the receipt handle's token, and whether the broker renews it. */
interface Holder {
  token: number;
  clientId: string;
  autoRenew: boolean;
  deliveredAt: number;
}

export interface Popped {
  queue: number;
  message: QueuedMessage;
  receiptHandle: string;
  /** 1 for the first delivery. */
  attempt: number;
}

export interface PopRequest {
  max: number;
  filter: MessageFilter;
  now: number;
  invisibleMs: number;
  clientId: string;
  autoRenew: boolean;
  /** Only this queue (a FIFO push consumer's assignment); otherwise all, in rotation. */
  queue?: number;
}

let nextToken = (Math.random() * 0x7fffffff) >>> 0;

/**
 * One consumer group's view of one topic: an AckQueue per message queue over the topic's shared logs,
 * popped with invisibility deadlines ("pop" consumption). FIFO groups take a queue only when none of its
 * messages is in flight, so a message group's next message waits for the previous ack.
 */
export class GroupQueues {
  private readonly holders: Array<Map<number, Holder>>;
  private rotation = 0;

  constructor(
    readonly group: string,
    readonly topic: TopicDescriptor,
    readonly queues: readonly AckQueue[],
    readonly policy: RetryPolicy,
    readonly fifo: boolean,
  ) {
    this.holders = queues.map(() => new Map());
  }

  /** Takes up to `max` visible messages; those past the group's max attempts come back in `dead` instead. */
  pop(request: PopRequest): { delivered: Popped[]; dead: Array<{ queue: number; message: QueuedMessage }> } {
    const delivered: Popped[] = [];
    const dead: Array<{ queue: number; message: QueuedMessage }> = [];
    const only = request.queue !== undefined && request.queue >= 0 && request.queue < this.queues.length;
    const count = only ? 1 : this.queues.length;
    for (let i = 0; i < count && delivered.length < request.max; i++) {
      const index = only ? request.queue! : (this.rotation + i) % count;
      const queue = this.queues[index]!;
      if (this.fifo && queue.inFlightCount > 0) continue;
      for (let message = queue.peek(); message && delivered.length < request.max; message = queue.peek()) {
        if (!request.filter(message.headers)) {
          queue.drop(message);
          continue;
        }
        const attempt = message.attempts + 1;
        queue.take(attempt > this.policy.maxAttempts ? Infinity : request.now + request.invisibleMs);
        if (attempt > this.policy.maxAttempts) {
          dead.push({ queue: index, message });
          continue;
        }
        const token = (nextToken = (nextToken + 1) >>> 0);
        this.holders[index]!.set(message.offset, { token, clientId: request.clientId, autoRenew: request.autoRenew, deliveredAt: request.now });
        delivered.push({ queue: index, message, attempt, receiptHandle: `${this.topic.id}_${index}_${message.offset}_${token}` });
      }
      if (this.fifo && delivered.length > 0) break;
    }
    this.rotation = (this.rotation + 1) % count;
    return { delivered, dead };
  }

  /** The first queue (of `only`, or all) that cannot be read past a damaged batch, if any. */
  failedQueue(only?: number): number | undefined {
    const index = this.queues.findIndex((queue, i) => queue.failed !== undefined && (only === undefined || only < 0 || i === only));
    return index < 0 ? undefined : index;
  }

  ack(receiptHandle: string): void {
    const { queue, offset } = this.resolve(receiptHandle);
    this.holders[queue]!.delete(offset);
    this.queues[queue]!.ack(offset);
  }

  /** Moves the deadline; a push consumer's call is its nack, so the group's back-off decides the wait. */
  changeInvisibleDuration(receiptHandle: string, invisibleMs: number, now: number): string {
    const { queue, offset, holder } = this.resolve(receiptHandle);
    const message = this.queues[queue]!.inFlightMessage(offset)!;
    const wait = holder.autoRenew ? this.policy.backoffMs(message.attempts + 1) : invisibleMs;
    holder.autoRenew = false;
    holder.token = nextToken = (nextToken + 1) >>> 0;
    this.queues[queue]!.extend(offset, now + wait);
    return `${this.topic.id}_${queue}_${offset}_${holder.token}`;
  }

  /** The in-flight message a handle names, taken out of flight for good (dead-lettered by the client). */
  release(receiptHandle: string): QueuedMessage {
    const { queue, offset } = this.resolve(receiptHandle);
    const message = this.queues[queue]!.inFlightMessage(offset)!;
    this.holders[queue]!.delete(offset);
    this.queues[queue]!.drop(message);
    return message;
  }

  deadLettered(queue: number, message: QueuedMessage): void {
    this.queues[queue]!.drop(message);
  }

  requeue(queue: number, offset: number): void {
    this.holders[queue]!.delete(offset);
    this.queues[queue]!.requeue(offset);
  }

  /** Renews auto-renewed messages of live clients ahead of their deadline; redelivers the expired. */
  sweep(now: number, renew: { aheadMs: number; invisibleMs: number; maxMs: number; alive: (clientId: string) => boolean }): void {
    for (let index = 0; index < this.queues.length; index++) {
      const queue = this.queues[index]!;
      if (queue.inFlightCount === 0) continue;
      const holders = this.holders[index]!;
      for (const [offset, holder] of holders) {
        if (!holder.autoRenew || now - holder.deliveredAt >= renew.maxMs || !renew.alive(holder.clientId)) continue;
        const message = queue.inFlightMessage(offset);
        if (message && message.deadline - now <= renew.aheadMs) queue.extend(offset, now + renew.invisibleMs);
      }
      for (const message of queue.expireInFlight(now)) holders.delete(message.offset);
    }
  }

  /** Calls `listener` when any queue may have something to take; returns the unsubscribe function. */
  onAvailable(listener: () => void): () => void {
    const unsubscribes = this.queues.map((queue) => queue.onAvailable(listener));
    return () => {
      for (const unsubscribe of unsubscribes) unsubscribe();
    };
  }

  close(): void {
    for (const queue of this.queues) queue.close();
  }

  private resolve(receiptHandle: string): { queue: number; offset: number; holder: Holder } {
    const [topicId, queueText, offsetText, tokenText] = receiptHandle.split('_');
    const queue = Number(queueText);
    const offset = Number(offsetText);
    const holder = this.holders[queue]?.get(offset);
    if (topicId !== this.topic.id || !holder || holder.token !== Number(tokenText) || !this.queues[queue]!.inFlightMessage(offset)) {
      throw new RocketError('INVALID_RECEIPT_HANDLE', 'the receipt handle is expired or not valid');
    }
    return { queue, offset, holder };
  }
}

export function parseReceiptHandle(receiptHandle: string): { topicId: string } {
  const parts = receiptHandle.split('_');
  if (parts.length !== 4 || !parts.slice(1).every((p) => /^\d+$/.test(p))) throw new RocketError('INVALID_RECEIPT_HANDLE', 'the receipt handle is malformed');
  return { topicId: parts[0]! };
}
