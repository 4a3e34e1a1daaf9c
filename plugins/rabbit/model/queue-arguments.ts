import { fieldInteger, fieldText, type FieldTable, type FieldValue } from '../codec/index.ts';
import { amqpError } from '../amqp-error.ts';
import { typeName } from './field-terms.ts';
import { MAX_EXPIRY_MS } from './published-properties.ts';

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

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

/** Arguments only quorum or stream queues take: a classic queue refuses them by name. */
const OTHER_QUEUE_TYPES_ARGUMENTS = new Set([
  'x-dead-letter-strategy',
  'x-delivery-limit',
  'x-initial-cluster-size',
  'x-max-age',
  'x-max-in-memory-bytes',
  'x-max-in-memory-length',
  'x-queue-leader-locator',
  'x-quorum-initial-group-size',
  'x-stream-max-segment-size-bytes',
]);

const OVERFLOWS: readonly string[] = ['drop-head', 'reject-publish', 'reject-publish-dlx'];


/** A check returns RabbitMQ's error term as `~p` prints it, or undefined when the value is good. */
type Check = (value: FieldValue, args: FieldTable) => string | undefined;

const quoted = (text: string) => JSON.stringify(text);
const unacceptable = (value: FieldValue) => `{unacceptable_type,${typeName(value)}}`;
const integer: Check = (v) => (fieldInteger(v) === undefined ? quoted(`expected integer, got ${typeName(v)}`) : undefined);
const nonNegative: Check = (v, args) => integer(v, args) ?? (fieldInteger(v)! < 0n ? `{value_negative,${fieldInteger(v)}}` : undefined);
const expiry = (n: bigint) => (n < 0n ? `{value_negative,${n}}` : n > MAX_EXPIRY_MS ? `{value_too_large,${n}}` : undefined);
const string = (check: (text: string, args: FieldTable) => string | undefined): Check => (v, args) => (v.type === 'S' ? check(v.value.toString('utf8'), args) : unacceptable(v));

/** RabbitMQ's validators for a classic queue, in the order it runs them. */
const CHECKS: ReadonlyArray<[string, Check]> = [
  ['x-expires', (v, args) => integer(v, args) ?? (fieldInteger(v) === 0n ? '{value_zero,0}' : expiry(fieldInteger(v)!))],
  ['x-message-ttl', (v, args) => integer(v, args) ?? expiry(fieldInteger(v)!)],
  ['x-dead-letter-exchange', string(() => undefined)],
  ['x-dead-letter-routing-key', string((_, args) => (args.has('x-dead-letter-exchange') ? undefined : 'routing_key_but_no_dlx_defined'))],
  ['x-max-length', nonNegative],
  ['x-max-length-bytes', nonNegative],
  ['x-max-priority', (v, args) => nonNegative(v, args) ?? (fieldInteger(v)! > 255n ? `{max_value_exceeded,${fieldInteger(v)}}` : undefined)],
  ['x-overflow', string((text) => (OVERFLOWS.includes(text) ? undefined : 'invalid_overflow'))],
  ['x-queue-mode', string((text) => (text === 'default' || text === 'lazy' ? undefined : quoted(`unsupported queue mode '${text}'`)))],
  ['x-queue-version', (v, args) => nonNegative(v, args) ?? (fieldInteger(v) === 1n || fieldInteger(v) === 2n ? undefined : quoted(`unsupported queue version '${fieldInteger(v)}'`))],
  ['x-single-active-consumer', (v) => (v.type === 't' ? undefined : unacceptable(v))],
];

const checkQueueType = string((text) => (['classic', 'quorum', 'stream'].includes(text) ? undefined : quoted(`unsupported queue type '${text}'`)));

/**
 * Refuses the arguments of a queue about to be created as RabbitMQ does, with its 406 texts: the dead-letter
 * exchange's type, the queue type, each argument's validator in RabbitMQ's order, then arguments of other
 * queue types. Only classic queues exist here: quorum and stream are refused as unsupported.
 */
export function checkQueueArguments(args: FieldTable, queue: string, vhost: string): void {
  const where = `queue '${queue}' in vhost '${vhost}'`;
  const dlx = args.get('x-dead-letter-exchange');
  if (dlx !== undefined && dlx.type !== 'S') throw amqpError.precondition(`invalid type '${typeName(dlx)}' for arg 'x-dead-letter-exchange' in ${where}`);
  const invalid = (name: string, reason: string) => amqpError.precondition(`invalid arg '${name}' for ${where}: ${reason}`);
  const queueType = args.get('x-queue-type');
  if (queueType !== undefined) {
    const error = checkQueueType(queueType, args);
    if (error) throw invalid('x-queue-type', error);
    if (fieldText(queueType) !== 'classic') throw invalid('x-queue-type', quoted(`unsupported queue type '${fieldText(queueType)}'`));
  }
  for (const [name, check] of CHECKS) {
    const value = args.get(name);
    const error = value === undefined ? undefined : check(value, args);
    if (error) throw invalid(name, error);
  }
  for (const name of args.keys()) {
    if (OTHER_QUEUE_TYPES_ARGUMENTS.has(name)) throw amqpError.precondition(`invalid arg '${name}' for ${where} of queue type rabbit_classic_queue`);
  }
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
  return {
    messageTtl: number('x-message-ttl'),
    expires: number('x-expires') || undefined,
    maxLength: number('x-max-length'),
    maxLengthBytes: number('x-max-length-bytes'),
    overflow: overflow !== undefined && OVERFLOWS.includes(overflow) ? (overflow as Overflow) : 'drop-head',
    deadLetterExchange: dlx?.type === 'S' ? dlx.value.toString('utf8') : undefined,
    deadLetterRoutingKey: dlrk?.type === 'S' ? dlrk.value.toString('utf8') : undefined,
    maxPriority: maxPriority === undefined ? undefined : Math.min(maxPriority, 255),
    singleActiveConsumer: sac?.type === 't' && sac.value,
  };
}

/** basic.consume arguments on a classic queue: `x-priority` an integer, `x-cancel-on-ha-failover` a bool, stream-only ones refused. */
export function checkConsumerArguments(args: FieldTable, queue: string, vhost: string): void {
  const where = `queue '${queue}' in vhost '${vhost}'`;
  const priority = args.get('x-priority');
  const priorityError = priority === undefined ? undefined : integer(priority, args);
  if (priorityError) throw amqpError.precondition(`invalid arg 'x-priority' for ${where}: ${priorityError}`);
  const failover = args.get('x-cancel-on-ha-failover');
  if (failover !== undefined && failover.type !== 't') throw amqpError.precondition(`invalid arg 'x-cancel-on-ha-failover' for ${where}: ${unacceptable(failover)}`);
  if (args.has('x-stream-offset')) throw amqpError.precondition(`invalid arg 'x-stream-offset' for ${where} of queue type rabbit_classic_queue`);
}
