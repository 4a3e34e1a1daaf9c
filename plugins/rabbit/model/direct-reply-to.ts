import { randomBytes } from 'node:crypto';
import type { StoredMessage } from './stored-message.ts';

/** The pseudo-queue a client consumes from (no-ack) and names as reply_to. */
export const REPLY_TO_QUEUE = 'amq.rabbitmq.reply-to';
const REPLY_TO_PREFIX = `${REPLY_TO_QUEUE}.`;

/** A channel consuming from the pseudo-queue. */
export interface ReplyConsumer {
  deliverReply(routingKey: string, message: StoredMessage, body: Buffer): void;
}

/**
 * RabbitMQ's direct reply-to: a reply published through the default exchange to
 * `amq.rabbitmq.reply-to.<channel>.<key>` goes straight to that channel's reply consumer, with no queue.
 * The name is random, as RabbitMQ's (an encoded channel and a random key), so it cannot be guessed.
 */
export class DirectReplyTo {
  private readonly consumers = new Map<string, ReplyConsumer>();

  /** Registers a reply consumer; returns the queue name its requests carry as reply_to. */
  register(consumer: ReplyConsumer): string {
    const name = `${REPLY_TO_PREFIX}${randomBytes(12).toString('base64')}.${randomBytes(16).toString('base64')}`;
    this.consumers.set(name, consumer);
    return name;
  }

  unregister(name: string): void {
    this.consumers.delete(name);
  }

  /** Whether a routing key of the default exchange names a reply consumer rather than a queue. */
  static isReplyName(name: string): boolean {
    return name.startsWith(REPLY_TO_PREFIX);
  }

  /** The live reply consumer a reply name stands for. */
  find(name: string): ReplyConsumer | undefined {
    return this.consumers.get(name);
  }
}
