import { fieldInteger, fieldText, type FieldTable, type FieldValue } from '../codec/index.ts';
import { amqpError } from '../amqp-error.ts';
import { typeName } from './field-terms.ts';
import { MAX_EXPIRY_MS } from './published-properties.ts';
import { parseMaxAge } from '../../../core/index.ts';

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';
export type QueueType = 'classic' | 'quorum' | 'stream';
export type DeadLetterStrategy = 'at-most-once' | 'at-least-once';

/**
 * A quorum queue's delivery limit when it sets none: RabbitMQ 4's default. (RabbitMQ 3.10 has no default:
 * a quorum queue without x-delivery-limit redelivers a message forever.)
 */
export const DEFAULT_DELIVERY_LIMIT = 20;

export interface QueueArguments {
  messageTtl?: number;
  expires?: number;
  maxLength?: number;
  maxLengthBytes?: number;
  overflow: Overflow;
  deadLetterExchange?: string;
  deadLetterRoutingKey?: string;
  maxPriority?: number;
  singleActiveConsumer: boolean;
  type: QueueType;
  /** Quorum: a message returned more often than this is dead-lettered (`delivery_limit`). */
  deliveryLimit?: number;
  /** Quorum: at-least-once only with reject-publish, as RabbitMQ falls back to at-most-once otherwise. */
  deadLetterStrategy: DeadLetterStrategy;
}

/** The arguments a classic queue takes, in the order RabbitMQ compares them on redeclaration. */
export const CLASSIC_QUEUE_ARGUMENTS = [
  'x-expires',
  'x-message-ttl',
  'x-dead-letter-exchange',
  'x-dead-letter-routing-key',
  'x-max-length',
  'x-max-length-bytes',
  'x-max-priority',
  'x-overflow',
  'x-queue-mode',
  'x-queue-version',
  'x-single-active-consumer',
  'x-queue-type',
  'x-queue-master-locator',
] as const;

/** The arguments a quorum queue takes, in the order RabbitMQ compares them on redeclaration. */
export const QUORUM_QUEUE_ARGUMENTS = [
  'x-dead-letter-exchange',
  'x-dead-letter-routing-key',
  'x-dead-letter-strategy',
  'x-expires',
  'x-max-length',
  'x-max-length-bytes',
  'x-max-in-memory-length',
  'x-max-in-memory-bytes',
  'x-overflow',
  'x-single-active-consumer',
  'x-queue-type',
  'x-quorum-initial-group-size',
  'x-delivery-limit',
  'x-message-ttl',
  'x-queue-leader-locator',
] as const;

/** The arguments a stream queue takes, in the order RabbitMQ compares them on redeclaration. */
export const STREAM_QUEUE_ARGUMENTS = ['x-max-length-bytes', 'x-queue-type', 'x-max-age', 'x-stream-max-segment-size-bytes', 'x-initial-cluster-size', 'x-queue-leader-locator'];

const ALL_QUEUE_ARGUMENTS = new Set<string>([...CLASSIC_QUEUE_ARGUMENTS, ...QUORUM_QUEUE_ARGUMENTS, ...STREAM_QUEUE_ARGUMENTS]);

/** RabbitMQ's name for each queue type's module, as its texts print it. */
const TYPE_MODULES: Record<QueueType, string> = { classic: 'rabbit_classic_queue', quorum: 'rabbit_quorum_queue', stream: 'rabbit_stream_queue' };

/** The arguments of a queue type, in RabbitMQ's comparison order. */
export function queueTypeArguments(type: QueueType): readonly string[] {
  return type === 'quorum' ? QUORUM_QUEUE_ARGUMENTS : type === 'stream' ? STREAM_QUEUE_ARGUMENTS : CLASSIC_QUEUE_ARGUMENTS;
}

/** The type `x-queue-type` names (classic when absent or unknown). */
export function queueTypeOf(args: FieldTable): QueueType {
  const type = fieldText(args.get('x-queue-type'));
  return type === 'quorum' || type === 'stream' ? type : 'classic';
}

const OVERFLOWS: readonly string[] = ['drop-head', 'reject-publish', 'reject-publish-dlx'];


/** A check returns RabbitMQ's error term as `~p` prints it, or undefined when the value is good. */
type Check = (value: FieldValue, args: FieldTable) => string | undefined;

const quoted = (text: string) => JSON.stringify(text);
const unacceptable = (value: FieldValue) => `{unacceptable_type,${typeName(value)}}`;
const integer: Check = (v) => (fieldInteger(v) === undefined ? quoted(`expected integer, got ${typeName(v)}`) : undefined);
const nonNegative: Check = (v, args) => integer(v, args) ?? (fieldInteger(v)! < 0n ? `{value_negative,${fieldInteger(v)}}` : undefined);
const expiry = (n: bigint) => (n < 0n ? `{value_negative,${n}}` : n > MAX_EXPIRY_MS ? `{value_too_large,${n}}` : undefined);
const string = (check: (text: string, args: FieldTable) => string | undefined): Check => (v, args) => (v.type === 'S' ? check(v.value.toString('utf8'), args) : unacceptable(v));

const groupSize: Check = (v, args) => nonNegative(v, args) ?? (fieldInteger(v) === 0n ? '{value_zero,0}' : undefined);

/** RabbitMQ's validators (rabbit_amqqueue:declare_args/0), in the order it runs them; each type runs those of its own arguments. */
const CHECKS: ReadonlyArray<[string, Check]> = [
  ['x-expires', (v, args) => integer(v, args) ?? (fieldInteger(v) === 0n ? '{value_zero,0}' : expiry(fieldInteger(v)!))],
  ['x-message-ttl', (v, args) => integer(v, args) ?? expiry(fieldInteger(v)!)],
  ['x-dead-letter-exchange', string(() => undefined)],
  ['x-dead-letter-routing-key', string((_, args) => (args.has('x-dead-letter-exchange') ? undefined : 'routing_key_but_no_dlx_defined'))],
  ['x-dead-letter-strategy', string((text) => (text === 'at-most-once' || text === 'at-least-once' ? undefined : 'invalid_dlx_strategy'))],
  ['x-max-length', nonNegative],
  ['x-max-length-bytes', nonNegative],
  ['x-max-in-memory-length', nonNegative],
  ['x-max-in-memory-bytes', nonNegative],
  ['x-max-priority', (v, args) => nonNegative(v, args) ?? (fieldInteger(v)! > 255n ? `{max_value_exceeded,${fieldInteger(v)}}` : undefined)],
  ['x-overflow', string((text) => (OVERFLOWS.includes(text) ? undefined : 'invalid_overflow'))],
  ['x-queue-mode', string((text) => (text === 'default' || text === 'lazy' ? undefined : quoted(`unsupported queue mode '${text}'`)))],
  ['x-queue-version', (v, args) => nonNegative(v, args) ?? (fieldInteger(v) === 1n || fieldInteger(v) === 2n ? undefined : quoted(`unsupported queue version '${fieldInteger(v)}'`))],
  ['x-single-active-consumer', (v) => (v.type === 't' ? undefined : unacceptable(v))],
  ['x-quorum-initial-group-size', groupSize],
  ['x-max-age', string((text) => (parseMaxAge(text) === undefined ? 'invalid_max_age' : undefined))],
  ['x-stream-max-segment-size-bytes', nonNegative],
  ['x-initial-cluster-size', groupSize],
  ['x-queue-leader-locator', string((text) => (['client-local', 'balanced', 'random', 'least-leaders'].includes(text) ? undefined : 'invalid_queue_locator_arg'))],
];

const checkQueueType = string((text) => (['classic', 'quorum', 'stream'].includes(text) ? undefined : quoted(`unsupported queue type '${text}'`)));

/** What a queue.declare asks for besides its arguments: quorum queues refuse some of it. */
export interface DeclaredProperties {
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
}

/**
 * Refuses the arguments of a queue about to be created as RabbitMQ does, with its 406 texts: the dead-letter
 * exchange's type, the queue type, each of its type's validators in RabbitMQ's order, then arguments of other
 * queue types by name; a quorum queue then refuses auto-delete, exclusive and non-durable. Streams are refused
 * as unsupported.
 */
export function checkQueueArguments(args: FieldTable, queue: string, vhost: string, declared: DeclaredProperties): void {
  const where = `queue '${queue}' in vhost '${vhost}'`;
  const dlx = args.get('x-dead-letter-exchange');
  if (dlx !== undefined && dlx.type !== 'S') throw amqpError.precondition(`invalid type '${typeName(dlx)}' for arg 'x-dead-letter-exchange' in ${where}`);
  const invalid = (name: string, reason: string) => amqpError.precondition(`invalid arg '${name}' for ${where}: ${reason}`);
  const queueType = args.get('x-queue-type');
  if (queueType !== undefined) {
    const error = checkQueueType(queueType, args);
    if (error) throw invalid('x-queue-type', error);
  }
  const type = queueTypeOf(args);
  const own = queueTypeArguments(type);
  for (const [name, check] of CHECKS) {
    const value = own.includes(name) ? args.get(name) : undefined;
    const error = value === undefined ? undefined : check(value, args);
    if (error) throw invalid(name, error);
  }
  for (const name of args.keys()) {
    if (ALL_QUEUE_ARGUMENTS.has(name) && !own.includes(name)) throw amqpError.precondition(`invalid arg '${name}' for ${where} of queue type ${TYPE_MODULES[type]}`);
  }
  if (type !== 'classic') {
    const durable = declared.durable && !declared.exclusive;
    if (declared.autoDelete) throw amqpError.precondition(`invalid property 'auto-delete' for ${where}`);
    if (declared.exclusive) throw amqpError.precondition(`invalid property 'exclusive-owner' for ${where}`);
    if (!durable) throw amqpError.precondition(`invalid property 'non-durable' for ${where}`);
  }
  const segmentSize = type === 'stream' ? fieldInteger(args.get('x-stream-max-segment-size-bytes')) : undefined;
  if (segmentSize !== undefined && segmentSize > MAX_STREAM_SEGMENT_SIZE) throw amqpError.precondition('Exceeded max value for x-stream-max-segment-size-bytes');
}

/** RabbitMQ's largest x-stream-max-segment-size-bytes. */
const MAX_STREAM_SEGMENT_SIZE = 3_000_000_000n;

/** A server-named queue (an empty name in queue.declare) is only for classic queues. */
export function checkServerNamed(args: FieldTable): void {
  const type = queueTypeOf(args);
  if (type !== 'classic') throw amqpError.precondition(`Cannot declare a server-named queue for type ${TYPE_MODULES[type]}`);
}

/** What the queue does with its (already checked) arguments; values of the wrong type are ignored. */
export function parseQueueArguments(args: FieldTable): QueueArguments {
  const number = (name: string): number | undefined => {
    const n = fieldInteger(args.get(name));
    return n === undefined || n < 0n ? undefined : Number(n);
  };
  const overflow = fieldText(args.get('x-overflow'));
  const dlx = args.get('x-dead-letter-exchange');
  const dlrk = args.get('x-dead-letter-routing-key');
  const sac = args.get('x-single-active-consumer');
  const maxPriority = number('x-max-priority');
  const type = queueTypeOf(args);
  const limit = fieldInteger(args.get('x-delivery-limit'));
  const rejectPublish = overflow === 'reject-publish';
  return {
    messageTtl: number('x-message-ttl'),
    expires: number('x-expires') || undefined,
    maxLength: number('x-max-length'),
    maxLengthBytes: number('x-max-length-bytes'),
    // A quorum queue takes reject-publish-dlx but, as RabbitMQ 3.10, runs it as drop-head.
    overflow: overflow !== undefined && OVERFLOWS.includes(overflow) && !(type === 'quorum' && overflow === 'reject-publish-dlx') ? (overflow as Overflow) : 'drop-head',
    deadLetterExchange: dlx?.type === 'S' ? dlx.value.toString('utf8') : undefined,
    deadLetterRoutingKey: dlrk?.type === 'S' ? dlrk.value.toString('utf8') : undefined,
    maxPriority: maxPriority === undefined ? undefined : Math.min(maxPriority, 255),
    singleActiveConsumer: sac?.type === 't' && sac.value,
    type,
    deliveryLimit: type !== 'quorum' ? undefined : limit === undefined ? DEFAULT_DELIVERY_LIMIT : Number(limit),
    deadLetterStrategy: type === 'quorum' && rejectPublish && fieldText(args.get('x-dead-letter-strategy')) === 'at-least-once' ? 'at-least-once' : 'at-most-once',
  };
}

/**
 * basic.consume arguments: `x-priority` an integer; `x-cancel-on-ha-failover` a bool on classic queues;
 * arguments of other queue types refused by name (a quorum queue takes only x-priority and x-credit).
 */
export function checkConsumerArguments(args: FieldTable, queue: string, vhost: string, type: QueueType = 'classic'): void {
  const where = `queue '${queue}' in vhost '${vhost}'`;
  const offset = type === 'stream' ? args.get('x-stream-offset') : undefined;
  // RabbitMQ 3.10.8's channel crashes formatting this refusal: the connection closes with 541 INTERNAL_ERROR.
  if (offset !== undefined && streamOffsetOf(offset, 0) === undefined) throw amqpError.channelCrashed();
  const priority = args.get('x-priority');
  const priorityError = priority === undefined ? undefined : integer(priority, args);
  if (priorityError) throw amqpError.precondition(`invalid arg 'x-priority' for ${where}: ${priorityError}`);
  const failover = type === 'classic' ? args.get('x-cancel-on-ha-failover') : undefined;
  if (failover !== undefined && failover.type !== 't') throw amqpError.precondition(`invalid arg 'x-cancel-on-ha-failover' for ${where}: ${unacceptable(failover)}`);
  const foreign = type === 'classic' ? ['x-stream-offset'] : type === 'quorum' ? ['x-cancel-on-ha-failover', 'x-stream-offset'] : ['x-priority', 'x-cancel-on-ha-failover'];
  for (const name of args.keys()) if (foreign.includes(name)) throw amqpError.precondition(`invalid arg '${name}' for ${where} of queue type ${TYPE_MODULES[type]}`);
}

/** A consumer's `x-priority` (0 when absent). */
export function consumerPriority(args: FieldTable): number {
  const priority = fieldInteger(args.get('x-priority'));
  return priority === undefined ? 0 : Number(priority);
}

/** Where a stream consumer starts: `first`, `last`, `next`, an offset, or a time (ms since epoch). */
export type StreamOffset = { kind: 'first' | 'last' | 'next' } | { kind: 'offset'; offset: number } | { kind: 'timestamp'; ms: number };

/**
 * A stream consumer's `x-stream-offset`, as RabbitMQ 3.10 parses it: first, last or next; an AMQP timestamp
 * (seconds); another string as an interval before `now` (`1h`, `30m`, `7D`...); any other value an offset.
 * Undefined for a string that is none of those.
 */
export function streamOffsetOf(value: FieldValue | undefined, now: number): StreamOffset | undefined {
  if (value === undefined) return { kind: 'next' };
  const text = fieldText(value);
  if (text === 'first' || text === 'last' || text === 'next') return { kind: text };
  if (value.type === 'T') return { kind: 'timestamp', ms: Number(value.value) * 1000 };
  if (value.type === 'S') {
    const interval = parseMaxAge(text!);
    return interval === undefined ? undefined : { kind: 'timestamp', ms: now - interval };
  }
  const offset = fieldInteger(value);
  return { kind: 'offset', offset: offset === undefined || offset < 0n ? 0 : Number(offset) };
}
