import { DelayScheduler, type AckStateStore, type Clock, type DueEntry, type Logger, type RecordHeader, type RecordInput, type TopicDescriptor, type TopicRegistry } from '../../../core/index.ts';
import { RocketError } from '../status.ts';
import { messageIdOf } from './message-record.ts';
import type { RocketTopics } from './rocket-topics.ts';

export const DELAY_TOPIC = 'rocket:delayed';
const Target = { topic: 'REAL_TOPIC', queue: 'REAL_QID' } as const;

/**
 * Delayed messages wait in the core DelayScheduler's log and are appended to their topic when due.
 * The recall handle names the scheduler entry, so RecallMessage cancels exactly that message.
 */
export class DelayedMessages {
  private constructor(
    private readonly scheduler: DelayScheduler,
    private readonly topics: RocketTopics,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  static async open(registry: TopicRegistry, topics: RocketTopics, ackStore: AckStateStore, clock: Clock, logger: Logger, maxDelayMs: number): Promise<DelayedMessages> {
    if (!registry.get(DELAY_TOPIC)) await registry.create(DELAY_TOPIC, { partitions: 1, internal: true, config: { retentionMs: -1, indexIntervalBytes: 1024 } });
    const scheduler = await DelayScheduler.open(`rocket/${DELAY_TOPIC}`, registry.log(DELAY_TOPIC, 0)!, ackStore, clock, logger, { maxDelayMs });
    const delayed = new DelayedMessages(scheduler, topics, clock, logger);
    scheduler.onDue((entries) => delayed.deliver(entries));
    return delayed;
  }

  /** Stores the message until `deliverAt` (delivered at once if that has passed); returns its recall handle. */
  async schedule(topic: TopicDescriptor, queue: number, record: RecordInput, deliverAt: number): Promise<string> {
    if (deliverAt <= this.clock.now()) {
      await this.topics.append(topic, queue, record);
      return '';
    }
    const headers: RecordHeader[] = [...(record.headers ?? []), { key: Target.topic, value: Buffer.from(topic.name) }, { key: Target.queue, value: Buffer.from(String(queue)) }];
    const offset = await this.scheduler.schedule(deliverAt, { ...record, headers });
    return `${topic.id}_${offset}`;
  }

  /** Cancels a delayed message not yet delivered; returns its message id. */
  async recall(topic: TopicDescriptor, recallHandle: string): Promise<string> {
    const match = /^(.+)_(\d+)$/.exec(recallHandle);
    if (!match || match[1] !== topic.id) throw new RocketError('BAD_REQUEST', 'the recall handle is not valid for this topic');
    const entry = await this.scheduler.cancel(Number(match[2]), (e) => targetOf(e).topic === topic.name);
    if (!entry) throw new RocketError('NOT_FOUND', 'the message was delivered already or does not exist');
    return messageIdOf(entry.headers);
  }

  close(): Promise<void> {
    return this.scheduler.close();
  }

  private async deliver(entries: DueEntry[]): Promise<void> {
    await Promise.all(
      entries.map(async (entry) => {
        const target = targetOf(entry);
        const topic = this.topics.find(target.topic);
        if (!topic) {
          this.logger.warn({ topic: target.topic }, 'dropping a delayed message: its topic is gone');
          return;
        }
        const headers = entry.headers.filter((h) => h.key !== Target.topic && h.key !== Target.queue);
        await this.topics.append(topic, target.queue % topic.partitions, { key: null, value: entry.value, headers, timestamp: this.clock.now() });
      }),
    );
  }
}

function targetOf(entry: DueEntry): { topic: string; queue: number } {
  let topic = '';
  let queue = 0;
  for (const { key, value } of entry.headers) {
    if (key === Target.topic) topic = value?.toString('utf8') ?? '';
    else if (key === Target.queue) queue = Number(value?.toString('utf8') ?? 0);
  }
  return { topic, queue };
}
