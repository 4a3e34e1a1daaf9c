import { fieldInteger, fieldText, type FieldTable, type FieldValue } from '../codec/index.ts';
import { amqpError } from '../amqp-error.ts';

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

const INTEGER_TYPES = new Set(['b', 'B', 's', 'u', 'I', 'i', 'l']);

/** Parses x-arguments, refusing bad values with RabbitMQ's 406 texts. */
export function parseQueueArguments(args: FieldTable, queue: string, vhost: string): QueueArguments {
  const invalid = (name: string, reason: string) => amqpError.precondition(`invalid arg '${name}' for queue '${queue}' in vhost '${vhost}': ${reason}`);
  const integer = (name: string, { allowZero }: { allowZero: boolean }): number | undefined => {
    const value = args.get(name);
    if (value === undefined) return undefined;
    if (!INTEGER_TYPES.has(value.type)) throw invalid(name, `{unacceptable_type,${typeName(value)}}`);
    const n = fieldInteger(value)!;
    if (n < 0) throw invalid(name, `{value_negative,${n}}`);
    if (n === 0 && !allowZero) throw invalid(name, `{value_zero,${n}}`);
    return n;
  };
  const overflow = fieldText(args.get('x-overflow')) ?? 'drop-head';
  if (!['drop-head', 'reject-publish', 'reject-publish-dlx'].includes(overflow)) throw invalid('x-overflow', '{invalid_overflow}');
  const maxPriority = integer('x-max-priority', { allowZero: true });
  if (maxPriority !== undefined && maxPriority > 255) throw invalid('x-max-priority', `{max_value_exceeded,${maxPriority}}`);
  const deadLetterExchange = fieldText(args.get('x-dead-letter-exchange'));
  const deadLetterRoutingKey = fieldText(args.get('x-dead-letter-routing-key'));
  if (deadLetterRoutingKey !== undefined && deadLetterExchange === undefined) throw invalid('x-dead-letter-routing-key', 'routing_key_but_no_dlx_defined');
  const queueType = fieldText(args.get('x-queue-type'));
  if (queueType !== undefined && queueType !== 'classic') {
    throw amqpError.precondition(`invalid arg 'x-queue-type' for queue '${queue}' in vhost '${vhost}': "unsupported queue type '${queueType}'"`);
  }
  const sac = args.get('x-single-active-consumer');
  return {
    messageTtl: integer('x-message-ttl', { allowZero: true }),
    expires: integer('x-expires', { allowZero: false }),
    maxLength: integer('x-max-length', { allowZero: true }),
    maxLengthBytes: integer('x-max-length-bytes', { allowZero: true }),
    overflow: overflow as Overflow,
    deadLetterExchange,
    deadLetterRoutingKey,
    maxPriority,
    singleActiveConsumer: sac?.type === 't' && sac.value,
  };
}

/** RabbitMQ's name for a field's type in 406 texts. */
export function typeName(value: FieldValue): string {
  const names: Record<string, string> = { t: 'bool', b: 'byte', B: 'unsignedbyte', s: 'short', u: 'unsignedshort', I: 'signedint', i: 'unsignedint', l: 'long', T: 'timestamp', f: 'float', d: 'double', D: 'decimal', S: 'longstr', x: 'binary', A: 'array', F: 'table', V: 'void' };
  return names[value.type] ?? value.type;
}

/** A field value as RabbitMQ prints it in equivalence errors. */
export function printValue(value: FieldValue): string {
  switch (value.type) {
    case 'S':
    case 'x':
      return value.value.toString('utf8');
    case 'l':
    case 'T':
      return value.value.toString();
    case 'A':
    case 'F':
      return JSON.stringify(value.value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    default:
      return String(value.value);
  }
}
