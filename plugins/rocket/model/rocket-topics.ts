import { crc32 } from '@node-rs/crc32';
import { BatchingAppender, type RecordInput, type TopicDescriptor, type TopicRegistry } from '../../../core/index.ts';
import { RocketError } from '../status.ts';
import type { MessageType } from './message-types.ts';

export type Permission = 'READ_WRITE' | 'WRITE' | 'READ';

/** What the rocket plugin keeps in a topic's attributes. */
interface RocketAttributes {
  messageType: MessageType;
  permission?: Permission;
}

export const dlqTopicOf = (group: string): string => `%DLQ%${group}`;
const SYSTEM_PREFIXES = ['%DLQ%', '%RETRY%', 'rmq_sys_', 'RMQ_SYS_'];

/** RocketMQ topics over core topics: a topic's message queues are its partitions. */
export class RocketTopics {
  private readonly appenders = new Map<string, BatchingAppender[]>();
  private readonly roundRobin = new Map<string, number>();

  constructor(
    private readonly registry: TopicRegistry,
    private readonly options: { queues: number; autoCreate: boolean; dlqPermission: Permission },
  ) {
    registry.onChange((event) => event.type !== 'config' && this.appenders.delete(event.topic.name));
  }

  /** The topic, created as NORMAL if unknown and auto-creation is on; TOPIC_NOT_FOUND otherwise. */
  async require(name: string): Promise<TopicDescriptor> {
    if (!name) throw new RocketError('ILLEGAL_TOPIC', 'topic name is empty');
    const topic = this.registry.get(name);
    if (topic && !topic.internal) return topic;
    if (!this.options.autoCreate || topic?.internal || SYSTEM_PREFIXES.some((p) => name.startsWith(p))) {
      throw new RocketError('TOPIC_NOT_FOUND', `topic ${name} does not exist`);
    }
    return this.create(name, 'NORMAL');
  }

  async create(name: string, messageType: MessageType, queues = this.options.queues, permission?: Permission): Promise<TopicDescriptor> {
    const existing = this.registry.get(name);
    if (existing) return existing;
    if (!/^[%|a-zA-Z0-9_-]{1,127}$/.test(name)) throw new RocketError('ILLEGAL_TOPIC', `topic name ${JSON.stringify(name)} is not valid`);
    const rocketmq: RocketAttributes = permission ? { messageType, permission } : { messageType };
    try {
      return await this.registry.create(name, { partitions: queues, attributes: { rocketmq } });
    } catch (err) {
      const raced = this.registry.get(name);
      if (raced) return raced;
      throw err;
    }
  }

  /** Gives an existing topic another message type (and permission): RocketMQ's updateTopic with +message.type. */
  async retype(topic: TopicDescriptor, messageType: MessageType, permission = this.permission(topic)): Promise<TopicDescriptor> {
    if (this.messageType(topic) === messageType && this.permission(topic) === permission) return topic;
    const rocketmq: RocketAttributes = permission === 'READ_WRITE' ? { messageType } : { messageType, permission };
    return this.registry.setAttributes(topic.name, { ...topic.attributes, rocketmq });
  }

  /** The dead-letter topic of a group: one queue, created on first use. */
  dlq(group: string): Promise<TopicDescriptor> {
    return this.create(dlqTopicOf(group), 'NORMAL', 1, this.options.dlqPermission);
  }

  messageType(topic: TopicDescriptor): MessageType {
    return (topic.attributes.rocketmq as RocketAttributes | undefined)?.messageType ?? 'NORMAL';
  }

  permission(topic: TopicDescriptor): Permission {
    return (topic.attributes.rocketmq as RocketAttributes | undefined)?.permission ?? 'READ_WRITE';
  }

  checkAccepts(topic: TopicDescriptor, type: MessageType): void {
    const accepted = this.messageType(topic);
    if (accepted !== type) throw new RocketError('MESSAGE_PROPERTY_CONFLICT_WITH_TYPE', `topic ${topic.name} accepts ${accepted} messages, not ${type}`);
  }

  /** The broker's queue choice, whatever the client named: the message group's hash, else round-robin. */
  pickQueue(topic: TopicDescriptor, messageGroup: string | undefined): number {
    if (messageGroup !== undefined) return crc32(messageGroup) % topic.partitions;
    const next = this.roundRobin.get(topic.name) ?? 0;
    this.roundRobin.set(topic.name, next + 1);
    return next % topic.partitions;
  }

  /** A topic by name, internal ones excluded, without creating it. */
  find(name: string): TopicDescriptor | undefined {
    const topic = this.registry.get(name);
    return topic && !topic.internal ? topic : undefined;
  }

  /** Appends one record to a queue, coalesced with the others of this tick; resolves with its offset. */
  append(topic: TopicDescriptor, queue: number, record: RecordInput): Promise<number> {
    return this.appendTo(topic.name, queue, record);
  }

  /** Appends to one of the plugin's internal single-queue topics. */
  appendInternal(name: string, record: RecordInput): Promise<number> {
    return this.appendTo(name, 0, record);
  }

  private appendTo(name: string, queue: number, record: RecordInput): Promise<number> {
    let appenders = this.appenders.get(name);
    if (!appenders) {
      appenders = this.registry.partitions(name).map((log) => new BatchingAppender(log));
      this.appenders.set(name, appenders);
    }
    const appender = appenders[queue];
    if (!appender) return Promise.reject(new RocketError('TOPIC_NOT_FOUND', `topic ${name} has no queue ${queue}`));
    return appender.append(record);
  }
}
