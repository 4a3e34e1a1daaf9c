import { randomUUID } from 'node:crypto';
import { AckQueue, type AckStateStore, type Clock, type Logger, type QueuedMessage, type RecordHeader, type RecordInput, type TopicDescriptor, type TopicRegistry } from '../../../core/index.ts';
import { RocketError } from '../status.ts';
import { messageIdOf } from './message-record.ts';
import type { RocketTopics } from './rocket-topics.ts';

/** Where half messages wait, hidden from protocol listings. */
export const HALF_TOPIC = 'rocket:transaction-half';

const Half = { topic: 'REAL_TOPIC', queue: 'REAL_QID', transactionId: '__TRANSACTION_ID', producer: '__PRODUCER_CLIENT' } as const;
const INTERNAL_KEYS = new Set<string>(Object.values(Half));

export interface PendingTransaction {
  readonly transactionId: string;
  readonly topic: string;
  readonly queue: number;
  readonly messageId: string;
  readonly producer: string;
  readonly message: QueuedMessage;
  checks: number;
  nextCheckAt: number;
  resolving: boolean;
}

export interface TransactionOptions {
  checkDelayMs: number;
  checkIntervalMs: number;
  checkMax: number;
  /** Sends a check-back to a producer of the topic; false when none is connected. */
  checkBack: (pending: PendingTransaction) => boolean;
}

const CHECK_SWEEP_MS = 500;
/** RocketMQ's proxy cap on a message's own orphaned-transaction recovery duration. */
const MAX_RECOVERY_MS = 3600 * 1000;

/**
 * Transactional messages: a half message is stored in an internal log, invisible, until EndTransaction
 * commits it (appended to its topic) or rolls it back. Unresolved ones are checked back with a producer,
 * first after `checkDelayMs`, then every `checkIntervalMs`, `checkMax` times, then discarded. The half
 * log is an AckQueue: resolved messages are acked, so a restart brings back exactly the unresolved ones.
 */
export class Transactions {
  private readonly pending = new Map<string, PendingTransaction>();
  private readonly byOffset = new Map<number, PendingTransaction>();
  private timer: ReturnType<Clock['setTimeout']> | undefined;
  private closed = false;

  private constructor(
    private readonly half: AckQueue,
    private readonly topics: RocketTopics,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: TransactionOptions,
  ) {}

  static async open(registry: TopicRegistry, topics: RocketTopics, ackStore: AckStateStore, clock: Clock, logger: Logger, options: TransactionOptions): Promise<Transactions> {
    if (!registry.get(HALF_TOPIC)) await registry.create(HALF_TOPIC, { partitions: 1, internal: true });
    const half = await AckQueue.open(`rocket/${HALF_TOPIC}`, registry.log(HALF_TOPIC, 0)!, ackStore);
    const transactions = new Transactions(half, topics, clock, logger, options);
    while (half.readyCount > 0 && !half.failed) {
      transactions.absorb();
      if (half.readyCount > 0) await half.available().catch(() => undefined);
    }
    if (half.failed) logger.error({ err: half.failed }, 'the half-message log is damaged: transactions past the damage are not checked back');
    transactions.scheduleChecks();
    return transactions;
  }

  /** Stores a half message; resolves with its transaction id once it is durable. */
  async prepare(topic: TopicDescriptor, queue: number, record: RecordInput, producer: string, recoveryMs: number | undefined): Promise<string> {
    const transactionId = randomUUID();
    const headers: RecordHeader[] = [
      ...(record.headers ?? []),
      { key: Half.topic, value: Buffer.from(topic.name) },
      { key: Half.queue, value: Buffer.from(String(queue)) },
      { key: Half.transactionId, value: Buffer.from(transactionId) },
      { key: Half.producer, value: Buffer.from(producer) },
    ];
    const offset = await this.topics.appendInternal(HALF_TOPIC, { ...record, headers });
    while (!this.byOffset.has(offset)) {
      this.absorb();
      if (!this.byOffset.has(offset)) await this.half.available();
    }
    const firstCheck = recoveryMs !== undefined && recoveryMs > 0 ? Math.min(recoveryMs, MAX_RECOVERY_MS) : this.options.checkDelayMs;
    this.byOffset.get(offset)!.nextCheckAt = this.clock.now() + firstCheck;
    return transactionId;
  }

  async end(topic: string, messageId: string, transactionId: string, commit: boolean): Promise<void> {
    const pending = this.pending.get(transactionId);
    if (!pending || pending.topic !== topic || (messageId && pending.messageId !== messageId)) {
      throw new RocketError('INVALID_TRANSACTION_ID', `no unresolved transaction ${transactionId} for message ${messageId} on ${topic}`);
    }
    if (pending.resolving) throw new RocketError('INVALID_TRANSACTION_ID', `transaction ${transactionId} is being resolved`);
    pending.resolving = true;
    try {
      if (commit) {
        const target = await this.topics.require(pending.topic);
        const headers = pending.message.headers.filter((h) => !INTERNAL_KEYS.has(h.key));
        await this.topics.append(target, pending.queue % target.partitions, { key: null, value: pending.message.value, headers, timestamp: this.clock.now() });
      }
      this.forget(pending);
    } catch (err) {
      pending.resolving = false;
      throw err;
    }
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.half.close();
  }

  private forget(pending: PendingTransaction): void {
    this.pending.delete(pending.transactionId);
    this.byOffset.delete(pending.message.offset);
    this.half.ack(pending.message.offset);
  }

  /** Takes every half message the queue has read into the pending table. */
  private absorb(): void {
    for (let message = this.half.take(); message; message = this.half.take()) {
      const text = (key: string) => message.headers.find((h) => h.key === key)?.value?.toString('utf8') ?? '';
      const pending: PendingTransaction = {
        transactionId: text(Half.transactionId),
        topic: text(Half.topic),
        queue: Number(text(Half.queue)),
        messageId: messageIdOf(message.headers),
        producer: text(Half.producer),
        message,
        checks: 0,
        nextCheckAt: this.clock.now() + this.options.checkDelayMs,
        resolving: false,
      };
      this.pending.set(pending.transactionId, pending);
      this.byOffset.set(message.offset, pending);
    }
  }

  private scheduleChecks(): void {
    if (this.closed) return;
    this.timer = this.clock.setTimeout(() => {
      this.checkDue();
      this.scheduleChecks();
    }, CHECK_SWEEP_MS);
  }

  private checkDue(): void {
    const now = this.clock.now();
    for (const pending of [...this.pending.values()]) {
      if (pending.resolving || pending.nextCheckAt > now) continue;
      if (pending.checks >= this.options.checkMax) {
        this.logger.warn({ transactionId: pending.transactionId, topic: pending.topic, checks: pending.checks }, 'discarding a transaction never resolved');
        this.forget(pending);
        continue;
      }
      if (this.options.checkBack(pending)) pending.checks++;
      pending.nextCheckAt = now + this.options.checkIntervalMs;
    }
  }
}

export const transactionHeaders = INTERNAL_KEYS;
