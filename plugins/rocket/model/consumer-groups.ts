import { AckQueue, type AckStateStore, type Clock, type Logger, type RecordHeader, type TopicDescriptor, type TopicRegistry } from '../../../core/index.ts';
import type { GroupSpec } from '../rocket-config.ts';
import { RocketError } from '../status.ts';
import { GroupQueues, parseReceiptHandle, type Popped } from './group-queues.ts';
import { messageIdOf, Prop } from './message-record.ts';
import { RetryPolicy } from './retry-policy.ts';
import type { RocketTopics } from './rocket-topics.ts';
import type { MessageFilter } from './subscription-filter.ts';

export interface ReceiveRequest {
  group: string;
  topic: TopicDescriptor;
  max: number;
  filter: MessageFilter;
  invisibleMs: number;
  autoRenew: boolean;
  clientId: string;
  /** A FIFO push consumer's assigned queue; otherwise every queue is popped. */
  queue?: number;
  /** Long polling: give up at this time if nothing arrives. */
  until: number;
  signal: AbortSignal;
}

export interface ConsumerGroupsOptions {
  /** A group's settings (FIFO, retry), if it has any. */
  groups: { spec(group: string): GroupSpec | undefined };
  pushInvisibleMs: number;
  renewMaxMs: number;
  alive: (clientId: string) => boolean;
}

const SWEEP_INTERVAL_MS = 200;
const RENEW_AHEAD_MS = 10_000;

/**
 * Server-side ("pop") consumption for every consumer group: per group and topic, queues over the topic's
 * logs with their own ack state, redelivery after the invisibility deadline, and the dead-letter queue.
 */
export class ConsumerGroups {
  private readonly open = new Map<string, Promise<GroupQueues>>();
  /** The same, once opened: what metrics and admin views read. */
  private readonly opened = new Map<string, GroupQueues>();
  private sweepTimer: ReturnType<Clock['setTimeout']> | undefined;
  private stopped = false;

  constructor(
    private readonly registry: TopicRegistry,
    private readonly topics: RocketTopics,
    private readonly ackStore: AckStateStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: ConsumerGroupsOptions,
  ) {
    registry.onChange((event) => {
      if (event.type === 'config') return;
      for (const [key, pending] of this.open) {
        if (!key.endsWith(`\u0000${event.topic.name}`)) continue;
        this.forget(key, pending);
      }
    });
    this.scheduleSweep();
  }

  isFifo(group: string): boolean {
    return this.options.groups.spec(group)?.fifo ?? false;
  }

  retryPolicy(group: string): RetryPolicy {
    const spec = this.options.groups.spec(group)?.retry;
    return spec ? new RetryPolicy(spec) : RetryPolicy.default;
  }

  /** Pops up to `max` messages, waiting for some until `until`; messages past max attempts go to the DLQ. */
  async receive(request: ReceiveRequest): Promise<{ queues: GroupQueues; delivered: Popped[] }> {
    const queues = await this.queuesOf(request.group, request.topic);
    for (;;) {
      const now = this.clock.now();
      if (request.signal.aborted) return { queues, delivered: [] };
      const { delivered, dead } = queues.pop({ ...request, now });
      for (const { queue, message } of dead) void this.deadLetter(queues, queue, message.offset, message.headers, message.value);
      if (delivered.length === 0) {
        const damaged = queues.failedQueue(request.queue);
        if (damaged !== undefined) throw new RocketError('INTERNAL_SERVER_ERROR', `the store of ${request.topic.name} queue ${damaged} is damaged: ${queues.queues[damaged]!.failed!.message}`);
      }
      if (delivered.length > 0 || now >= request.until || request.signal.aborted) return { queues, delivered };
      await new Promise<void>((resolve) => {
        const finish = (): void => {
          stopWaiting();
          wake.cancel();
          request.signal.removeEventListener('abort', finish);
          resolve();
        };
        const stopWaiting = queues.onAvailable(finish);
        const wake = this.clock.setTimeout(finish, request.until - now);
        request.signal.addEventListener('abort', finish, { once: true });
      });
    }
  }

  async ack(group: string, topic: TopicDescriptor, receiptHandle: string): Promise<void> {
    (await this.queuesFor(group, topic, receiptHandle)).ack(receiptHandle);
  }

  async changeInvisibleDuration(group: string, topic: TopicDescriptor, receiptHandle: string, invisibleMs: number): Promise<string> {
    return (await this.queuesFor(group, topic, receiptHandle)).changeInvisibleDuration(receiptHandle, invisibleMs, this.clock.now());
  }

  /** The client gave up on a message (FIFO consumers retry locally): it goes to the group's DLQ now. */
  async forwardToDeadLetterQueue(group: string, topic: TopicDescriptor, receiptHandle: string): Promise<void> {
    const queues = await this.queuesFor(group, topic, receiptHandle);
    const message = queues.release(receiptHandle);
    await this.appendToDlq(group, topic.name, message.headers, message.value);
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.sweepTimer?.cancel();
    for (const pending of this.open.values()) (await pending).close();
    this.open.clear();
    this.opened.clear();
  }

  /** Every group and topic being consumed: their queues' positions, in flight and ready counts. */
  active(): IterableIterator<GroupQueues> {
    return this.opened.values();
  }

  /** A group's settings changed: its queues reopen on next use with the new FIFO mode and retry policy. */
  settingsChanged(group: string): void {
    for (const [key, pending] of this.open) if (key.startsWith(`${group}\u0000`)) this.forget(key, pending);
  }

  private forget(key: string, pending: Promise<GroupQueues>): void {
    this.open.delete(key);
    this.opened.delete(key);
    void pending.then((queues) => queues.close(), () => undefined);
  }

  private async deadLetter(queues: GroupQueues, queue: number, offset: number, headers: readonly RecordHeader[], body: Buffer | null): Promise<void> {
    try {
      await this.appendToDlq(queues.group, queues.topic.name, headers, body);
      queues.deadLettered(queue, queues.queues[queue]!.inFlightMessage(offset)!);
    } catch (err) {
      this.logger.error({ err, group: queues.group, topic: queues.topic.name }, 'dead-lettering failed; the message stays queued');
      queues.requeue(queue, offset);
    }
  }

  private async appendToDlq(group: string, originTopic: string, headers: readonly RecordHeader[], body: Buffer | null): Promise<void> {
    const dlq = await this.topics.dlq(group);
    const kept = headers.filter((h) => h.key !== Prop.dlqOriginTopic && h.key !== Prop.dlqOriginMessageId);
    kept.push({ key: Prop.dlqOriginTopic, value: Buffer.from(originTopic) }, { key: Prop.dlqOriginMessageId, value: Buffer.from(messageIdOf(headers)) });
    await this.topics.append(dlq, 0, { key: null, value: body, headers: kept, timestamp: this.clock.now() });
  }

  private async queuesFor(group: string, topic: TopicDescriptor, receiptHandle: string): Promise<GroupQueues> {
    if (parseReceiptHandle(receiptHandle).topicId !== topic.id) throw new RocketError('INVALID_RECEIPT_HANDLE', 'the receipt handle belongs to another topic');
    return this.queuesOf(group, topic);
  }

  private queuesOf(group: string, topic: TopicDescriptor): Promise<GroupQueues> {
    const key = `${group}\u0000${topic.name}`;
    let pending = this.open.get(key);
    if (!pending) {
      pending = this.openQueues(group, topic);
      this.open.set(key, pending);
      pending.then(
        (queues) => {
          if (this.open.get(key) === pending) this.opened.set(key, queues);
        },
        () => this.open.delete(key),
      );
    }
    return pending;
  }

  private async openQueues(group: string, topic: TopicDescriptor): Promise<GroupQueues> {
    const logs = this.registry.partitions(topic.name);
    const queues = await Promise.all(
      logs.map((log, index) =>
        AckQueue.open(`rocket/${group}/${topic.id}/${index}`, log, this.ackStore, {
          reclaim: false,
          // RocketMQ's pop init mode: a new group starts at the end, unless the queue never lost a message.
          startAt: (l) => (l.logStartOffset === 0 ? 0 : l.highWatermark),
        }),
      ),
    );
    queues.forEach((queue, index) => {
      const report = (err: unknown): void => this.logger.error({ err, group, topic: topic.name, queue: index }, 'message queue log is damaged: the queue delivers nothing past the damage');
      if (queue.failed) report(queue.failed);
      else queue.onFailure(report);
    });
    return new GroupQueues(group, topic, queues, this.retryPolicy(group), this.isFifo(group));
  }

  private scheduleSweep(): void {
    if (this.stopped) return;
    this.sweepTimer = this.clock.setTimeout(() => {
      void this.sweep().finally(() => this.scheduleSweep());
    }, SWEEP_INTERVAL_MS);
  }

  private async sweep(): Promise<void> {
    const now = this.clock.now();
    const renew = { aheadMs: RENEW_AHEAD_MS, invisibleMs: this.options.pushInvisibleMs, maxMs: this.options.renewMaxMs, alive: this.options.alive };
    for (const pending of this.open.values()) {
      const queues = await pending.catch(() => undefined);
      queues?.sweep(now, renew);
    }
  }
}
