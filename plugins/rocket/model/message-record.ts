import { crc32 } from '@node-rs/crc32';
import type { RecordHeader, RecordInput } from '../../../core/index.ts';
import { RocketError } from '../status.ts';
import type { MessageType } from './message-types.ts';

/** apache.rocketmq.v2.Message as the gRPC layer hands it over (camelCase, enums as names, int64 as number). */
export interface WireMessage {
  topic?: { name?: string; resourceNamespace?: string };
  userProperties?: Record<string, string>;
  systemProperties?: WireSystemProperties;
  body?: Buffer;
}

export interface WireSystemProperties {
  tag?: string;
  keys?: string[];
  messageId?: string;
  bodyDigest?: { type: string; checksum: string };
  bodyEncoding?: string;
  messageType?: string;
  bornTimestamp?: Timestamp;
  bornHost?: string;
  storeTimestamp?: Timestamp;
  storeHost?: string;
  deliveryTimestamp?: Timestamp;
  receiptHandle?: string;
  queueId?: number;
  queueOffset?: number;
  invisibleDuration?: Duration;
  deliveryAttempt?: number;
  messageGroup?: string;
  traceContext?: string;
  orphanedTransactionRecoveryDuration?: Duration;
  deadLetterQueue?: { topic: string; messageId: string };
}

export interface Timestamp {
  seconds: number;
  nanos: number;
}
export type Duration = Timestamp;

/** Absent fields are zero (the gRPC layer leaves proto3 defaults out). */
export const toMillis = (t: Partial<Timestamp> | undefined): number | undefined => (t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : undefined);
export const fromMillis = (ms: number): Timestamp => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

/** RocketMQ's own property names, used as record header keys; users may not set them. */
export const Prop = {
  messageId: 'UNIQ_KEY',
  tag: 'TAGS',
  keys: 'KEYS',
  messageGroup: '__SHARDINGKEY',
  deliverAt: 'TIMER_DELIVER_MS',
  transaction: 'TRAN_MSG',
  bornTimestamp: 'BORN_TIMESTAMP',
  bornHost: 'BORN_HOST',
  bodyCrc: 'BODY_CRC',
  gzip: 'BODY_GZIP',
  traceContext: 'TRACE_CONTEXT',
  dlqOriginTopic: 'DLQ_ORIGIN_TOPIC',
  dlqOriginMessageId: 'DLQ_ORIGIN_MESSAGE_ID',
} as const;

const RESERVED = new Set<string>([
  ...Object.values(Prop),
  'WAIT', 'DELAY', 'RETRY_TOPIC', 'REAL_TOPIC', 'REAL_QID', 'PGROUP', 'MIN_OFFSET', 'MAX_OFFSET', 'BUYER_ID', 'ORIGIN_MESSAGE_ID',
  'TRANSFER_FLAG', 'CORRECTION_FLAG', 'MQ2_FLAG', 'RECONSUME_TIME', 'MSG_REGION', 'TRACE_ON', 'MAX_RECONSUME_TIMES',
  'CONSUME_START_TIME', '__STARTDELIVERTIME', 'TIMER_DELAY_SEC', 'TIMER_OUT_MS', 'TRANSACTION_CHECK_TIMES', 'CHECK_IMMUNITY_TIME_IN_SECONDS',
  'POP_CK', 'INNER_NUM', 'INNER_BASE', '__SHARDINGKEY', 'CLUSTER', 'INSTANCE_ID',
]);

export interface MessageLimits {
  maxBodyBytes: number;
  maxPropertiesBytes: number;
}

const MAX_GROUP_LENGTH = 64;
const textOf = (headers: readonly RecordHeader[], key: string): string | undefined => {
  for (const header of headers) if (header.key === key) return header.value?.toString('utf8');
  return undefined;
};

/** Checks a sent message and returns its type as the message itself declares it. */
export function checkMessage(message: WireMessage, limits: MessageLimits): MessageType {
  const system = message.systemProperties;
  if (!message.topic?.name) throw new RocketError('ILLEGAL_TOPIC', 'topic name is empty');
  if (!system?.messageId) throw new RocketError('ILLEGAL_MESSAGE_ID', 'message id is empty');
  const body = message.body ?? Buffer.alloc(0);
  if (body.length === 0) throw new RocketError('MESSAGE_BODY_EMPTY', 'message body is empty');
  if (body.length > limits.maxBodyBytes) throw new RocketError('MESSAGE_BODY_TOO_LARGE', `message body of ${body.length} bytes exceeds ${limits.maxBodyBytes}`);
  if (system.tag !== undefined && (system.tag.trim() === '' || system.tag.includes('|'))) throw new RocketError('ILLEGAL_MESSAGE_TAG', `tag ${JSON.stringify(system.tag)} is blank or contains |`);
  for (const key of system.keys ?? []) if (key.trim() === '') throw new RocketError('ILLEGAL_MESSAGE_KEY', 'message key is blank');
  let propertyBytes = 0;
  for (const [key, value] of Object.entries(message.userProperties ?? {})) {
    if (key === '' || RESERVED.has(key) || /[\u0000-\u001f]/.test(key)) throw new RocketError('ILLEGAL_MESSAGE_PROPERTY_KEY', `property key ${JSON.stringify(key)} is reserved or not valid`);
    propertyBytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (propertyBytes > limits.maxPropertiesBytes) throw new RocketError('MESSAGE_PROPERTIES_TOO_LARGE', `user properties of ${propertyBytes} bytes exceed ${limits.maxPropertiesBytes}`);
  const group = system.messageGroup;
  if (group !== undefined && (group.trim() === '' || group.length > MAX_GROUP_LENGTH)) throw new RocketError('ILLEGAL_MESSAGE_GROUP', `message group must be 1-${MAX_GROUP_LENGTH} characters`);
  switch (system.messageType) {
    case 'FIFO':
      if (group === undefined) throw new RocketError('ILLEGAL_MESSAGE_GROUP', 'a FIFO message needs a message group');
      return 'FIFO';
    case 'DELAY':
      if (!system.deliveryTimestamp) throw new RocketError('ILLEGAL_DELIVERY_TIME', 'a DELAY message needs a delivery timestamp');
      return 'DELAY';
    case 'TRANSACTION':
      return 'TRANSACTION';
    case 'NORMAL':
    case undefined:
      if (group !== undefined || system.deliveryTimestamp) throw new RocketError('MESSAGE_PROPERTY_CONFLICT_WITH_TYPE', 'a NORMAL message may not carry a message group or delivery timestamp');
      return 'NORMAL';
    default:
      throw new RocketError('MESSAGE_PROPERTY_CONFLICT_WITH_TYPE', `message type ${system.messageType} is not supported`);
  }
}

/** A checked message as the record the queues store: body as value, properties as headers. */
export function toRecord(message: WireMessage, type: MessageType, now: number): RecordInput {
  const system = message.systemProperties!;
  const body = message.body!;
  const headers: RecordHeader[] = [];
  const put = (key: string, value: string | undefined) => value !== undefined && headers.push({ key, value: Buffer.from(value) });
  for (const [key, value] of Object.entries(message.userProperties ?? {})) put(key, value);
  put(Prop.messageId, system.messageId);
  put(Prop.tag, system.tag);
  if (system.keys?.length) put(Prop.keys, system.keys.join(' '));
  put(Prop.messageGroup, system.messageGroup);
  if (type === 'DELAY') put(Prop.deliverAt, String(toMillis(system.deliveryTimestamp)));
  if (type === 'TRANSACTION') put(Prop.transaction, 'true');
  put(Prop.bornTimestamp, String(toMillis(system.bornTimestamp) ?? now));
  put(Prop.bornHost, system.bornHost);
  put(Prop.bodyCrc, String(crc32(body)));
  if (system.bodyEncoding === 'GZIP') put(Prop.gzip, 'true');
  put(Prop.traceContext, system.traceContext);
  return { key: null, value: body, headers, timestamp: now };
}

/** The properties of a stored record, by name, for filters and routing. */
export function propertyOf(headers: readonly RecordHeader[]): (name: string) => string | undefined {
  return (name) => textOf(headers, name);
}

export const messageIdOf = (headers: readonly RecordHeader[]): string => textOf(headers, Prop.messageId) ?? '';
export const messageGroupOf = (headers: readonly RecordHeader[]): string | undefined => textOf(headers, Prop.messageGroup);
export const tagOf = (headers: readonly RecordHeader[]): string | undefined => textOf(headers, Prop.tag);

export interface Delivery {
  topic: string;
  queueId: number;
  offset: number;
  storedAt: number;
  receiptHandle?: string;
  invisibleMs?: number;
  attempt?: number;
  storeHost: string;
}

/** A stored record as apache.rocketmq.v2.Message, with the delivery's system properties. */
export function toWireMessage(headers: readonly RecordHeader[], body: Buffer, delivery: Delivery): WireMessage {
  const userProperties: Record<string, string> = {};
  const system: WireSystemProperties = {
    messageId: '',
    bodyEncoding: 'IDENTITY',
    messageType: 'NORMAL',
    storeTimestamp: fromMillis(delivery.storedAt),
    storeHost: delivery.storeHost,
    queueId: delivery.queueId,
    queueOffset: delivery.offset,
  };
  let dlqTopic: string | undefined;
  let dlqMessageId: string | undefined;
  for (const { key, value } of headers) {
    const text = value?.toString('utf8') ?? '';
    switch (key) {
      case Prop.messageId: system.messageId = text; break;
      case Prop.tag: system.tag = text; break;
      case Prop.keys: system.keys = text.split(' '); break;
      case Prop.messageGroup: system.messageGroup = text; system.messageType = 'FIFO'; break;
      case Prop.deliverAt: system.deliveryTimestamp = fromMillis(Number(text)); system.messageType = 'DELAY'; break;
      case Prop.transaction: system.messageType = 'TRANSACTION'; break;
      case Prop.bornTimestamp: system.bornTimestamp = fromMillis(Number(text)); break;
      case Prop.bornHost: system.bornHost = text; break;
      case Prop.bodyCrc: system.bodyDigest = { type: 'CRC32', checksum: text }; break;
      case Prop.gzip: system.bodyEncoding = 'GZIP'; break;
      case Prop.traceContext: system.traceContext = text; break;
      case Prop.dlqOriginTopic: dlqTopic = text; break;
      case Prop.dlqOriginMessageId: dlqMessageId = text; break;
      default: userProperties[key] = text;
    }
  }
  system.bodyDigest ??= { type: 'CRC32', checksum: String(crc32(body)) };
  if (dlqTopic !== undefined) system.deadLetterQueue = { topic: dlqTopic, messageId: dlqMessageId ?? system.messageId ?? '' };
  if (delivery.receiptHandle !== undefined) {
    system.receiptHandle = delivery.receiptHandle;
    system.invisibleDuration = fromMillis(delivery.invisibleMs ?? 0);
    system.deliveryAttempt = delivery.attempt;
  }
  return { topic: { name: delivery.topic, resourceNamespace: '' }, userProperties, systemProperties: system, body };
}
