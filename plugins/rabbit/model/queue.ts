import type { AckQueue, BatchingAppender, BrokerError, Clock, QueuedMessage, Timer } from '../../../core/index.ts';
import { QueueStats } from '../amqp-stats.ts';
import type { DeadLetterRouting, DeadLetterWorker } from './dead-letter-worker.ts';
import type { FieldTable } from '../codec/index.ts';
import type { QueueArguments } from './queue-arguments.ts';
import { encodeMessageKey, storedExpiry, type StoredMessage } from './stored-message.ts';

/** Bounds basic.get's waits for reads, so messages that cannot be taken (expiring) never spin it. */
const MAX_GET_WAITS = 64;

export interface QueueSpec {
  name: string;
  durable: boolean;
  /** The connection that owns an exclusive queue, else null. */
  exclusiveOwner: number | null;
  autoDelete: boolean;
  arguments: FieldTable;
}

/** One delivered message: where it came from, so the channel can ack, requeue or reject it. */
export interface Delivery {
  queue: AmqpQueue;
  level: number;
  message: QueuedMessage;
}

export interface QueueConsumer {
  readonly tag: string;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  /** `x-priority`: consumers of the highest priority with credit are served first. */
  readonly priority: number;
  /** May it take another message now (prefetch window, socket not backed up)? */
  ready(): boolean;
  deliver(delivery: Delivery): void;
  /** The queue went away. */
  cancelled(): void;
}

export type DeadLetterReason = 'expired' | 'rejected' | 'maxlen' | 'delivery_limit';

/** Consumers of one `x-priority`, served round robin. */
interface PriorityGroup {
  priority: number;
  consumers: QueueConsumer[];
  next: number;
}

/**
 * The record header of a message a quorum queue put back at its tail (nack or reject with requeue): how
 * often it had been returned before, as the re-appended record starts its own attempts over.
 */
const RETURNS_HEADER = 'x-returns';

/** What a queue asks of its vhost. */
export interface QueueHooks {
  /** Resolves true once every queue the dead-letter exchange routed it to stored it; false if none did. */
  deadLetter(queue: AmqpQueue, message: QueuedMessage, reason: DeadLetterReason): Promise<boolean>;
  /** At least once: routes the dead letter and publishes it to the queues not in `settled`. */
  forwardDeadLetter(queue: AmqpQueue, message: QueuedMessage, reason: DeadLetterReason, settled: ReadonlySet<string>): DeadLetterRouting;
  /** No consumers any more (auto-delete) or unused past x-expires. */
  unused(queue: AmqpQueue, why: 'auto-delete' | 'expires'): void;
  /** A log of the queue could not be read (damaged on disk): the queue is down, its consumers were cancelled. */
  crashed(queue: AmqpQueue, failure: BrokerError): void;
}

/**
 * A RabbitMQ classic or quorum queue over one AckQueue per priority level: consumers served by priority,
 * round robin within one, under their prefetch; TTL expiry at the head, max-length with its overflow modes,
 * single active consumer, and the lifecycle hooks for exclusive, auto-delete and x-expires queues. A quorum
 * queue also counts returns against its delivery limit and may dead-letter at least once.
 */
export class AmqpQueue {
  readonly stats = new QueueStats();
  /** In the order they were added: the single active consumer is the first. */
  private readonly consumers: QueueConsumer[] = [];
  /** The same consumers by priority, highest first. */
  private readonly groups: PriorityGroup[] = [];
  private hadConsumer = false;
  private pumping = false;
  private pumpAgain = false;
  private expiryTimer: Timer | undefined;
  private expiryAt = Infinity;
  private expiresTimer: Timer | undefined;
  private readyBytes = 0;
  /** Quorum reject-publish: over the limit, refusing publishes until back at 80% of it. */
  private publishersBlocked = false;
  private deleted = false;
  private failure: BrokerError | undefined;
  private readonly unsubscribes: Array<() => void>;
  /** The append batch the last message joined, and what its messages' enqueue() calls return. */
  private lastBatch: Promise<void> | undefined;
  private lastBatchStored: Promise<boolean> | undefined;

  constructor(
    readonly spec: QueueSpec,
    readonly args: QueueArguments,
    /** Index = priority level. */
    private readonly levels: AckQueue[],
    private readonly appenders: BatchingAppender[],
    private readonly hooks: QueueHooks,
    private readonly clock: Clock,
    /** A quorum queue's at-least-once dead-lettering. */
    private readonly deadLetters?: DeadLetterWorker,
  ) {
    this.unsubscribes = levels.map((level) => level.onAvailable(() => this.pump()));
    this.unsubscribes.push(...levels.map((level) => level.onFailure(this.crash)));
    this.touch();
  }

  /** Checks the levels for a failure found while the queue was being opened (e.g. by the restart sweep). */
  checkHealth(): void {
    const failed = this.levels.find((level) => level.failed !== undefined);
    if (failed) this.crash(failed.failed!);
  }

  /** Why the queue is down (its log is damaged), as RabbitMQ's crashed queue process; else undefined. */
  get failed(): BrokerError | undefined {
    return this.failure;
  }

  get name(): string {
    return this.spec.name;
  }

  get isDeleted(): boolean {
    return this.deleted;
  }

  /** Ready messages (not unacked), including those waiting to be appended. */
  get messageCount(): number {
    let count = 0;
    for (let i = 0; i < this.levels.length; i++) count += this.levels[i]!.readyCount + this.appenders[i]!.pending;
    return count;
  }

  /** The queue's logs as queues, by priority level (level 0 first), for a browser that reads without taking. */
  get levelQueues(): readonly AckQueue[] {
    return this.levels;
  }

  /** Messages delivered and not yet acknowledged (not those moving to at-least-once dead-lettering). */
  get unackedCount(): number {
    let count = -(this.deadLetters?.moving ?? 0);
    for (let i = 0; i < this.levels.length; i++) count += this.levels[i]!.inFlightCount;
    return count;
  }

  /** Messages waiting for the dead-letter exchange's queues to take them (at-least-once). */
  get deadLetteringCount(): number {
    return this.deadLetters?.count ?? 0;
  }

  private get deadLetteringBytes(): number {
    return this.deadLetters?.bytes ?? 0;
  }

  /** Starts at-least-once dead-lettering (the vhost's exchanges and bindings are in place). */
  startDeadLettering(): void {
    this.deadLetters?.start((message, reason, settled) => this.hooks.forwardDeadLetter(this, message, reason, settled));
  }

  /** Bytes of the ready messages. */
  get readyByteCount(): number {
    return this.readyBytes;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  get hasExclusiveConsumer(): boolean {
    return this.consumers.some((c) => c.exclusive);
  }

  /** Appends a message; resolves true once stored under the queue's flush policy, false if refused for length. */
  enqueue(message: StoredMessage, body: Buffer): Promise<boolean> {
    if (this.deleted) return Promise.resolve(true);
    if (this.args.type === 'quorum') {
      if (this.args.overflow === 'reject-publish' && this.rejectingPublishes()) return Promise.resolve(false);
    } else if (this.overLimit(body.length)) {
      if (this.args.overflow === 'reject-publish') return Promise.resolve(false);
      if (this.args.overflow === 'reject-publish-dlx') {
        void this.hooks.deadLetter(this, { offset: -1, timestamp: this.clock.now(), key: encodeMessageKey(message), value: body, headers: [], attempts: 0, deadline: Infinity }, 'maxlen');
        return Promise.resolve(false);
      }
    }
    const level = this.levelFor(message.priority);
    this.readyBytes += body.length;
    this.stats.published++;
    this.stats.publishedBytes += body.length;
    const batch = this.appenders[level]!.appendInBatch({ key: encodeMessageKey(message), value: body, timestamp: this.clock.now() });
    if (this.args.type === 'quorum' && this.args.overflow === 'reject-publish' && this.quorumOverLimit()) this.publishersBlocked = true;
    if (batch !== this.lastBatch) {
      this.lastBatch = batch;
      this.lastBatchStored = batch.then(this.afterStored);
    }
    return this.lastBatchStored!;
  }

  /** After a batch of enqueued messages is stored: enforce drop-head, arm TTL expiry; confirms the store. */
  private readonly afterStored = (): boolean => {
    if (this.args.overflow === 'drop-head') void this.dropHeadOverLimit();
    this.scheduleExpiry();
    return true;
  };

  addConsumer(consumer: QueueConsumer): void {
    this.consumers.push(consumer);
    let at = this.groups.findIndex((g) => g.priority <= consumer.priority);
    if (at < 0) at = this.groups.length;
    if (this.groups[at]?.priority !== consumer.priority) this.groups.splice(at, 0, { priority: consumer.priority, consumers: [], next: 0 });
    this.groups[at]!.consumers.push(consumer);
    this.hadConsumer = true;
    this.touch();
    this.pump();
  }

  /** A log cannot be read any more: like a crashed RabbitMQ queue process, the queue stops serving and its consumers are cancelled. */
  private readonly crash = (failure: BrokerError): void => {
    if (this.failure || this.deleted) return;
    this.failure = failure;
    this.expiryTimer?.cancel();
    this.hooks.crashed(this, failure);
    this.groups.length = 0;
    for (const consumer of this.consumers.splice(0)) consumer.cancelled();
  };

  /** Removes a consumer; an auto-delete queue left without consumers asks to be deleted. */
  removeConsumer(tag: string): boolean {
    const at = this.consumers.findIndex((c) => c.tag === tag);
    if (at < 0) return false;
    const [consumer] = this.consumers.splice(at, 1);
    const group = this.groups.find((g) => g.priority === consumer!.priority)!;
    const index = group.consumers.indexOf(consumer!);
    group.consumers.splice(index, 1);
    if (group.next > index) group.next--;
    if (group.consumers.length === 0) this.groups.splice(this.groups.indexOf(group), 1);
    this.touch();
    if (this.consumers.length === 0 && this.hadConsumer && this.spec.autoDelete) this.hooks.unused(this, 'auto-delete');
    else this.pump();
    return true;
  }

  /** basic.get: the next unexpired message, in flight until acked unless `noAck`. */
  get(noAck: boolean): Delivery | undefined {
    this.touch();
    return this.takeNext(noAck);
  }

  /**
   * basic.get when the read-ahead is empty (after a restart, or just after a publish): waits for the
   * queue's logs to be read while it still counts messages, so a non-empty queue never answers get-empty.
   */
  async getWhenRead(noAck: boolean): Promise<Delivery | undefined> {
    for (let attempt = 0; attempt < MAX_GET_WAITS && !this.deleted && !this.failure; attempt++) {
      const delivery = this.get(noAck);
      if (delivery || this.messageCount === 0) return delivery;
      await Promise.race(this.levels.map((l) => l.available())).catch(() => undefined);
    }
    return undefined;
  }

  ack(delivery: Delivery): void {
    delivery.queue.levels[delivery.level]!.ack(delivery.message.offset);
  }

  /** How often a message was returned to the queue (a quorum queue's delivery count). */
  deliveryCount(message: QueuedMessage): number {
    const { headers } = message;
    if (headers.length === 0) return message.attempts;
    const returns = headers.find((h) => h.key === RETURNS_HEADER)?.value;
    return message.attempts + (returns?.length === 4 ? returns.readUInt32BE(0) : 0);
  }

  /**
   * Back to ready: a classic queue puts it back at its place. A quorum queue dead-letters (or drops) a message
   * returned more often than its delivery limit; else a nack or reject puts it at the queue's tail and a
   * closing channel's `returned` messages go first, in the order they came back (rabbit_fifo).
   */
  requeue(delivery: Delivery, returned = false): void {
    if (this.deleted) return;
    const { level, message } = delivery;
    const { deliveryLimit } = this.args;
    if (deliveryLimit !== undefined && this.deliveryCount(message) + 1 > deliveryLimit) {
      this.discard(level, message, 'delivery_limit');
      return;
    }
    if (this.args.type === 'quorum' && !returned) return this.requeueAtTail(level, message);
    if (this.levels[level]!.requeue(message.offset, this.args.type === 'quorum')) this.readyBytes += message.value?.length ?? 0;
  }

  /** Appends the message again (with its delivery count) and lets the old record go once the new one is stored. */
  private requeueAtTail(level: number, message: QueuedMessage): void {
    const queue = this.levels[level]!;
    if (!queue.inFlightMessage(message.offset)) return;
    const returns = Buffer.allocUnsafe(4);
    returns.writeUInt32BE(this.deliveryCount(message) + 1, 0);
    this.readyBytes += message.value?.length ?? 0;
    this.appenders[level]!.appendInBatch({ key: message.key, value: message.value, timestamp: message.timestamp, headers: [{ key: RETURNS_HEADER, value: returns }] }).then(
      () => queue.ack(message.offset),
      () => queue.requeue(message.offset, true),
    );
  }

  /** Rejected without requeue: dead-lettered when the queue has a DLX, else dropped. */
  reject(delivery: Delivery): void {
    if (!this.levels[delivery.level]!.inFlightMessage(delivery.message.offset)) return;
    this.discard(delivery.level, delivery.message, 'rejected');
  }

  /**
   * A taken message leaves the queue for `reason`: dead-lettered if the queue has a DLX. At least once, it
   * moves to the dead-letter worker's discards log, which offers it to the DLX until its queues stored it.
   */
  private discard(level: number, message: QueuedMessage, reason: DeadLetterReason): void {
    const queue = this.levels[level]!;
    if (this.args.deadLetterExchange === undefined) {
      queue.drop(message);
      return;
    }
    if (this.args.deadLetterStrategy === 'at-most-once' || !this.deadLetters) {
      queue.drop(message);
      void this.hooks.deadLetter(this, message, reason);
      return;
    }
    this.deadLetters.hold(message, reason).then(
      () => queue.ack(message.offset),
      () => queue.requeue(message.offset, true),
    );
  }

  /** Deliveries a channel gives back when it closes: requeued, lowest offsets first. */
  requeueAll(deliveries: readonly Delivery[]): void {
    for (const d of [...deliveries].sort((a, b) => a.message.offset - b.message.offset)) this.requeue(d, true);
    this.pump();
  }

  purge(): number {
    let count = 0;
    for (const level of this.levels) count += level.purge();
    this.readyBytes = 0;
    return count;
  }

  /** Serves consumers with credit until they or the queue run dry. */
  pump(): void {
    if (this.deleted || this.failure) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        for (;;) {
          const consumer = this.nextConsumer();
          if (!consumer) break;
          const delivery = this.takeNext(consumer.noAck);
          if (!delivery) break;
          consumer.deliver(delivery);
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
    this.scheduleExpiry();
  }

  /** The queue is gone: consumers are cancelled, timers stop. The vhost deletes the logs. */
  markDeleted(): QueueConsumer[] {
    this.deleted = true;
    this.expiryTimer?.cancel();
    this.expiresTimer?.cancel();
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    for (const level of this.levels) level.close();
    this.deadLetters?.close();
    this.groups.length = 0;
    return this.consumers.splice(0);
  }

  /** The queue was used (declared, consumed, got from): restarts the x-expires countdown. */
  touch(): void {
    if (this.args.expires === undefined || this.deleted) return;
    this.expiresTimer?.cancel();
    this.expiresTimer = this.clock.setTimeout(() => {
      if (this.consumers.length === 0) this.hooks.unused(this, 'expires');
      else this.touch();
    }, this.args.expires);
  }

  private levelFor(priority: number): number {
    return this.levels.length === 1 ? 0 : Math.min(priority, this.levels.length - 1);
  }

  /**
   * A quorum queue takes messages until it is over its limit (messages held for at-least-once dead-lettering
   * count), then refuses them until it is back at 80% of it, as RabbitMQ's rabbit_fifo.
   */
  private rejectingPublishes(): boolean {
    if (!this.publishersBlocked) return false;
    const { maxLength, maxLengthBytes } = this.args;
    const below = (limit: number | undefined, value: number) => limit === undefined || value <= Math.trunc(limit * 0.8);
    if (below(maxLength, this.messageCount + this.deadLetteringCount) && below(maxLengthBytes, this.readyBytes + this.deadLetteringBytes)) this.publishersBlocked = false;
    return this.publishersBlocked;
  }

  private quorumOverLimit(): boolean {
    const { maxLength, maxLengthBytes } = this.args;
    return (maxLength !== undefined && this.messageCount + this.deadLetteringCount > maxLength) || (maxLengthBytes !== undefined && this.readyBytes + this.deadLetteringBytes > maxLengthBytes);
  }

  private overLimit(extraBytes: number): boolean {
    const { maxLength, maxLengthBytes } = this.args;
    return (maxLength !== undefined && this.messageCount >= maxLength) || (maxLengthBytes !== undefined && this.readyBytes + extraBytes > maxLengthBytes);
  }

  private async dropHeadOverLimit(): Promise<void> {
    const { maxLength, maxLengthBytes } = this.args;
    if (maxLength === undefined && maxLengthBytes === undefined) return;
    while (!this.deleted && !this.failure && ((maxLength !== undefined && this.messageCount > maxLength) || (maxLengthBytes !== undefined && this.readyBytes > maxLengthBytes))) {
      const head = this.headLevel(true);
      if (head === undefined) {
        await Promise.race(this.levels.map((l) => l.available())).catch(() => undefined);
        continue;
      }
      const level = this.levels[head]!;
      const message = level.take()!;
      level.drop(message);
      this.readyBytes -= message.value?.length ?? 0;
      if (this.args.deadLetterExchange !== undefined) void this.hooks.deadLetter(this, message, 'maxlen');
    }
  }

  /**
   * The consumer to serve next: of the highest priority with credit, round robin among equals; lower
   * priorities only while all higher ones are blocked. A single active consumer is the first added, whatever
   * its priority (RabbitMQ 3.10).
   */
  private nextConsumer(): QueueConsumer | undefined {
    if (this.consumers.length === 0) return undefined;
    if (this.args.singleActiveConsumer) return this.consumers[0]!.ready() ? this.consumers[0] : undefined;
    for (const group of this.groups) {
      const { consumers } = group;
      for (let i = 0; i < consumers.length; i++) {
        const consumer = consumers[(group.next + i) % consumers.length]!;
        if (consumer.ready()) {
          group.next = (group.next + i + 1) % consumers.length;
          return consumer;
        }
      }
    }
    return undefined;
  }

  /** The highest priority level with a message buffered (`oldest`: the lowest level holding the oldest). */
  private headLevel(oldest = false): number | undefined {
    if (oldest) {
      let best: number | undefined;
      for (let i = 0; i < this.levels.length; i++) {
        const m = this.levels[i]!.peek();
        if (m && (best === undefined || m.timestamp < this.levels[best]!.peek()!.timestamp)) best = i;
      }
      return best;
    }
    for (let i = this.levels.length - 1; i >= 0; i--) if (this.levels[i]!.peek()) return i;
    return undefined;
  }

  /** The next message to hand out (`settled`: done at once, for no-ack); expired heads are dead-lettered or dropped on the way. */
  private takeNext(settled: boolean): Delivery | undefined {
    const now = this.clock.now();
    for (;;) {
      const level = this.headLevel();
      if (level === undefined) return undefined;
      const queue = this.levels[level]!;
      const message = settled ? queue.takeSettled()! : queue.take()!;
      this.readyBytes -= message.value?.length ?? 0;
      if (this.expiry(message) <= now) {
        if (!settled) this.discard(level, message, 'expired');
        else if (this.args.deadLetterExchange !== undefined) void this.hooks.deadLetter(this, message, 'expired');
        continue;
      }
      return { queue: this, level, message };
    }
  }

  private expiry(message: QueuedMessage): number {
    const own = storedExpiry(message.key);
    const ttl = this.args.messageTtl === undefined ? Infinity : message.timestamp + this.args.messageTtl;
    return Math.min(own >= 0 ? own : Infinity, ttl);
  }

  /** Expired messages leave from the head even with no consumer: the delay-queue pattern needs that. */
  private scheduleExpiry(): void {
    if (this.deleted || this.failure) return;
    let next = Infinity;
    for (const level of this.levels) {
      const head = level.peek();
      if (head) next = Math.min(next, this.expiry(head));
    }
    if (next === Infinity || next >= this.expiryAt) return;
    this.expiryTimer?.cancel();
    this.expiryAt = next;
    this.expiryTimer = this.clock.setTimeout(() => {
      this.expiryTimer = undefined;
      this.expiryAt = Infinity;
      this.expireHeads();
    }, Math.max(0, next - this.clock.now()));
  }

  private expireHeads(): void {
    const now = this.clock.now();
    for (const queue of this.levels) {
      for (let head = queue.peek(); head && this.expiry(head) <= now; head = queue.peek()) {
        queue.take();
        this.readyBytes -= head.value?.length ?? 0;
        this.discard(this.levels.indexOf(queue), head, 'expired');
      }
    }
    this.scheduleExpiry();
  }
}
