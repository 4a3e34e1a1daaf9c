import type { FieldTable, FieldValue, MethodArgs, MethodName } from '../../plugins/rabbit/codec/index.ts';
import { AmqpWire } from '../helpers/amqp-wire.ts';

/**
 * Exchanges over raw frames whose outcome is written as RabbitMQ 3.10.8 gives it (reply codes and texts,
 * what a dead-lettered message looks like, which bindings match). rabbitmq-conformance.test.ts holds Wharf to
 * them; rabbitmq-reference.test.ts checks them against a real RabbitMQ where Debian's rabbitmq-server is installed.
 */
export interface ReferenceCase {
  name: string;
  run(session: Session): Promise<string>;
  expected: string;
}

const v = (type: FieldValue['type'], value: unknown) => ({ type, value }) as FieldValue;
const S = (s: string) => v('S', Buffer.from(s));
const table = (o: Record<string, FieldValue> = {}): FieldTable => new Map(Object.entries(o));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Reply = Awaited<ReturnType<AmqpWire['next']>>;

/** One connection with channel 1 open, and the calls the cases make on it. */
export class Session {
  private constructor(
    readonly wire: AmqpWire,
    readonly port: number,
  ) {}

  static async open(port: number): Promise<Session> {
    const wire = await AmqpWire.open(port);
    wire.method(1, 'channel.open', { outOfBand: '' });
    await wire.expect('channel.open-ok');
    return new Session(wire, port);
  }

  close(): void {
    this.wire.close();
  }

  /** The next frame's method, or undefined if none comes within `ms`. */
  async reply(ms = 3000): Promise<Reply | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
    const reply = await Promise.race([this.wire.next(), timeout]);
    clearTimeout(timer);
    return reply;
  }

  /** Sends methods one at a time: 'ok' if each got its reply, else how the channel or connection closed. */
  async outcome(...steps: Array<[MethodName, unknown]>): Promise<string> {
    for (const [name, args] of steps) {
      this.wire.method(1, name, args as never);
      const reply = await this.reply();
      if (!reply) return 'no reply';
      if (reply.name === 'channel.close' || reply.name === 'connection.close') return closed(reply);
    }
    return 'ok';
  }

  async call<K extends MethodName>(name: K, args: MethodArgs[K]): Promise<void> {
    this.wire.method(1, name, args);
    const reply = await this.reply();
    if (!reply || reply.name.endsWith('close')) throw new Error(`${name}: ${reply ? closed(reply) : 'no reply'}`);
  }

  declare(queue: string, args: Record<string, FieldValue> = {}): Promise<void> {
    return this.call('queue.declare', declareQueue(queue, { args }));
  }

  exchange(exchange: string, type: string): Promise<void> {
    return this.call('exchange.declare', declareExchange(exchange, type));
  }

  bind(queue: string, exchange: string, routingKey = '', args: Record<string, FieldValue> = {}): Promise<void> {
    return this.call('queue.bind', { ticket: 0, queue, exchange, routingKey, nowait: false, arguments: table(args) });
  }

  publish(exchange: string, routingKey: string, headers?: Record<string, FieldValue>, extra: { expiration?: string } = {}): void {
    this.wire.publish(1, exchange, routingKey, { ...(headers ? { headers: table(headers) } : {}), ...extra }, 'body');
  }

  /** basic.get, polled until a message comes (or `waitMs` passes). */
  async get(queue: string, { noAck = true, waitMs = 3000 } = {}): Promise<Reply | undefined> {
    const until = Date.now() + waitMs;
    for (;;) {
      this.wire.method(1, 'basic.get', { ticket: 0, queue, noAck });
      const reply = await this.reply();
      if (reply?.name !== 'basic.get-empty' || Date.now() >= until) return reply?.name === 'basic.get-ok' ? reply : undefined;
      await sleep(20);
    }
  }

  /** Takes a message from `queue` and rejects it without requeue (dead-lettering it). */
  async rejectFrom(queue: string): Promise<void> {
    const got = await this.get(queue, { noAck: false });
    if (got?.name !== 'basic.get-ok') throw new Error(`nothing in ${queue} to reject`);
    this.wire.method(1, 'basic.reject', { deliveryTag: got.args.deliveryTag, requeue: false });
  }

  /** A message as the cases compare it: exchange, routing key and every header with its type, in order. */
  async received(queue: string, waitMs?: number): Promise<string> {
    const got = await this.get(queue, { waitMs });
    if (got?.name !== 'basic.get-ok') return 'nothing';
    const properties = got.content!.properties;
    return `exchange '${got.args.exchange}' key '${got.args.routingKey}'${properties.expiration === undefined ? '' : ` expiration ${properties.expiration}`} headers ${show(v('F', properties.headers ?? new Map()))}`;
  }
}

function closed(reply: Reply): string {
  const a = reply.args as MethodArgs['channel.close'];
  return `${reply.name} ${a.replyCode} ${a.classId}/${a.methodId} ${a.replyText}`;
}

/** Typed and ordered; timestamps of this century print as `now`, so the broker's clock drops out. */
function show(value: FieldValue): string {
  switch (value.type) {
    case 'S':
    case 'x':
      return `${value.type}'${value.value.toString('utf8')}'`;
    case 'A':
      return `[${value.value.map(show).join(', ')}]`;
    case 'F':
      return `{${[...value.value].map(([k, e]) => `${k}: ${show(e)}`).join(', ')}}`;
    case 'T':
      return value.value > 1_000_000_000n ? 'T now' : `T ${value.value}`;
    default:
      return `${value.type} ${String(value.value)}`;
  }
}

function declareQueue(queue: string, o: { exclusive?: boolean; durable?: boolean; args?: Record<string, FieldValue> } = {}): MethodArgs['queue.declare'] {
  return { ticket: 0, queue, passive: false, durable: o.durable ?? false, exclusive: o.exclusive ?? false, autoDelete: false, nowait: false, arguments: table(o.args) };
}

function declareExchange(exchange: string, type: string, args: Record<string, FieldValue> = {}, durable = false): MethodArgs['exchange.declare'] {
  return { ticket: 0, exchange, type, passive: false, durable, autoDelete: false, internal: false, nowait: false, arguments: table(args) };
}

const consume = (queue: string, args: Record<string, FieldValue>): [MethodName, MethodArgs['basic.consume']] => [
  'basic.consume',
  { ticket: 0, queue, consumerTag: '', noLocal: false, noAck: true, exclusive: false, nowait: false, arguments: table(args) },
];
const q = (queue: string, o: Parameters<typeof declareQueue>[1] = {}): [MethodName, MethodArgs['queue.declare']] => ['queue.declare', declareQueue(queue, o)];
const x = (exchange: string, type: string, args: Record<string, FieldValue> = {}): [MethodName, MethodArgs['exchange.declare']] => ['exchange.declare', declareExchange(exchange, type, args)];
const queueBind = (queue: string, exchange: string, args: Record<string, FieldValue>): [MethodName, MethodArgs['queue.bind']] => [
  'queue.bind',
  { ticket: 0, queue, exchange, routingKey: '', nowait: false, arguments: table(args) },
];

const PRECONDITION = 'channel.close 406';
const invalidArg = (queue: string, arg: string, reason: string) => `${PRECONDITION} 50/10 PRECONDITION_FAILED - invalid arg '${arg}' for queue '${queue}' in vhost '/': ${reason}`;
const inequivalent = (what: string, arg: string, received: string, current: string, method = '50/10') =>
  `${PRECONDITION} ${method} PRECONDITION_FAILED - inequivalent arg '${arg}' for ${what} in vhost '/': received ${received} but current is ${current}`;

/** Declaring, redeclaring and consuming with arguments: which are refused, and RabbitMQ's exact texts. */
export const ARGUMENT_CASES: ReferenceCase[] = [
  { name: 'x-max-length as a byte, then the same as a short and a long', run: (s) => s.outcome(q('eq1', { args: { 'x-max-length': v('b', 5) } }), q('eq1', { args: { 'x-max-length': v('s', 5) } }), q('eq1', { args: { 'x-max-length': v('l', 5n) } })), expected: 'ok' },
  { name: 'x-max-length 5, then 1000', run: (s) => s.outcome(q('eq2', { args: { 'x-max-length': v('b', 5) } }), q('eq2', { args: { 'x-max-length': v('s', 1000) } })), expected: inequivalent("queue 'eq2'", 'x-max-length', "'1000'", "'5'") },
  { name: 'x-max-length omitted on redeclaration', run: (s) => s.outcome(q('eq3', { args: { 'x-max-length': v('b', 5) } }), q('eq3')), expected: inequivalent("queue 'eq3'", 'x-max-length', 'none', "the value '5' of type 'byte'") },
  { name: 'x-max-length added on redeclaration', run: (s) => s.outcome(q('eq4'), q('eq4', { args: { 'x-max-length': v('s', 300) } })), expected: inequivalent("queue 'eq4'", 'x-max-length', "the value '300' of type 'short'", 'none') },
  { name: 'x-max-length as a string on redeclaration', run: (s) => s.outcome(q('eq5', { args: { 'x-max-length': v('b', 5) } }), q('eq5', { args: { 'x-max-length': S('5') } })), expected: inequivalent("queue 'eq5'", 'x-max-length', "'5'", "'5'") },
  { name: 'x-message-ttl as a double on redeclaration', run: (s) => s.outcome(q('eq6', { args: { 'x-message-ttl': v('b', 5) } }), q('eq6', { args: { 'x-message-ttl': v('d', 5) } })), expected: inequivalent("queue 'eq6'", 'x-message-ttl', "'5.0'", "'5'") },
  { name: 'another dead-letter exchange on redeclaration', run: (s) => s.outcome(q('eq7', { args: { 'x-dead-letter-exchange': S('a') } }), q('eq7', { args: { 'x-dead-letter-exchange': S('b') } })), expected: inequivalent("queue 'eq7'", 'x-dead-letter-exchange', "'b'", "'a'") },
  { name: 'an argument of another queue type on redeclaration: not checked', run: (s) => s.outcome(q('eq8'), q('eq8', { args: { 'x-delivery-limit': v('b', 1) } })), expected: 'ok' },
  { name: 'an unknown x- argument differs on redeclaration', run: (s) => s.outcome(q('eq9', { args: { 'x-foo': S('a') } }), q('eq9', { args: { 'x-foo': S('b') } })), expected: 'ok' },
  { name: 'x-queue-type classic given or not', run: (s) => s.outcome(q('eq10'), q('eq10', { args: { 'x-queue-type': S('classic') } })), expected: 'ok' },
  {
    name: 'exclusive on redeclaration',
    run: (s) => s.outcome(q('eq11', { exclusive: true }), q('eq11')),
    expected: "channel.close 405 50/10 RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'eq11' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.",
  },
  { name: 'exclusive queues are never durable', run: (s) => s.outcome(q('eq12', { exclusive: true, durable: true }), q('eq12', { exclusive: true })), expected: 'ok' },
  { name: 'durable on redeclaration', run: (s) => s.outcome(q('eq13'), q('eq13', { durable: true })), expected: inequivalent("queue 'eq13'", 'durable', "'true'", "'false'") },
  { name: 'x-overflow bogus', run: (s) => s.outcome(q('va1', { args: { 'x-overflow': S('bogus') } })), expected: invalidArg('va1', 'x-overflow', 'invalid_overflow') },
  { name: 'x-overflow as a byte', run: (s) => s.outcome(q('va2', { args: { 'x-overflow': v('b', 1) } })), expected: invalidArg('va2', 'x-overflow', '{unacceptable_type,byte}') },
  { name: 'x-max-priority 300', run: (s) => s.outcome(q('va3', { args: { 'x-max-priority': v('s', 300) } })), expected: invalidArg('va3', 'x-max-priority', '{max_value_exceeded,300}') },
  { name: 'x-message-ttl -1 as a short', run: (s) => s.outcome(q('va4', { args: { 'x-message-ttl': v('s', -1) } })), expected: invalidArg('va4', 'x-message-ttl', '{value_negative,-1}') },
  { name: 'x-message-ttl as a string', run: (s) => s.outcome(q('va5', { args: { 'x-message-ttl': S('100') } })), expected: invalidArg('va5', 'x-message-ttl', '"expected integer, got longstr"') },
  { name: 'x-message-ttl as a timestamp', run: (s) => s.outcome(q('va6', { args: { 'x-message-ttl': v('T', 100n) } })), expected: invalidArg('va6', 'x-message-ttl', '"expected integer, got timestamp"') },
  { name: 'x-message-ttl above ten years', run: (s) => s.outcome(q('va7', { args: { 'x-message-ttl': v('l', 315_360_000_001n) } })), expected: invalidArg('va7', 'x-message-ttl', '{value_too_large,315360000001}') },
  { name: 'x-message-ttl and x-expires of every integer width', run: (s) => s.outcome(...(['b', 'B', 's', 'u', 'I', 'i'] as const).map((t, i) => q(`va8-${i}`, { args: { 'x-message-ttl': v(t, 100), 'x-expires': v(t, 100) } })), q('va8-l', { args: { 'x-expires': v('l', 5_000_000_000n) } })), expected: 'ok' },
  { name: 'x-expires 0', run: (s) => s.outcome(q('va9', { args: { 'x-expires': v('b', 0) } })), expected: invalidArg('va9', 'x-expires', '{value_zero,0}') },
  { name: 'x-max-length -1 as a long', run: (s) => s.outcome(q('va10', { args: { 'x-max-length': v('l', -9_223_372_036_854_775_808n) } })), expected: invalidArg('va10', 'x-max-length', '{value_negative,-9223372036854775808}') },
  { name: 'x-max-length-bytes as a string', run: (s) => s.outcome(q('va11', { args: { 'x-max-length-bytes': S('x') } })), expected: invalidArg('va11', 'x-max-length-bytes', '"expected integer, got longstr"') },
  { name: 'x-queue-type bogus', run: (s) => s.outcome(q('va12', { args: { 'x-queue-type': S('bogus') } })), expected: invalidArg('va12', 'x-queue-type', '"unsupported queue type \'bogus\'"') },
  { name: 'x-queue-type as a byte', run: (s) => s.outcome(q('va13', { args: { 'x-queue-type': v('b', 1) } })), expected: invalidArg('va13', 'x-queue-type', '{unacceptable_type,byte}') },
  { name: 'x-dead-letter-routing-key without a dead-letter exchange', run: (s) => s.outcome(q('va14', { args: { 'x-dead-letter-routing-key': S('k') } })), expected: invalidArg('va14', 'x-dead-letter-routing-key', 'routing_key_but_no_dlx_defined') },
  { name: 'x-dead-letter-routing-key as a byte', run: (s) => s.outcome(q('va15', { args: { 'x-dead-letter-exchange': S('x'), 'x-dead-letter-routing-key': v('b', 1) } })), expected: invalidArg('va15', 'x-dead-letter-routing-key', '{unacceptable_type,byte}') },
  { name: 'x-dead-letter-exchange as a byte', run: (s) => s.outcome(q('va16', { args: { 'x-dead-letter-exchange': v('b', 1) } })), expected: `${PRECONDITION} 50/10 PRECONDITION_FAILED - invalid type 'byte' for arg 'x-dead-letter-exchange' in queue 'va16' in vhost '/'` },
  { name: 'x-single-active-consumer as a string', run: (s) => s.outcome(q('va17', { args: { 'x-single-active-consumer': S('true') } })), expected: invalidArg('va17', 'x-single-active-consumer', '{unacceptable_type,longstr}') },
  { name: 'x-queue-mode bogus', run: (s) => s.outcome(q('va18', { args: { 'x-queue-mode': S('bogus') } })), expected: invalidArg('va18', 'x-queue-mode', '"unsupported queue mode \'bogus\'"') },
  { name: 'x-queue-version 3', run: (s) => s.outcome(q('va19', { args: { 'x-queue-version': v('b', 3) } })), expected: invalidArg('va19', 'x-queue-version', '"unsupported queue version \'3\'"') },
  { name: 'x-delivery-limit on a classic queue', run: (s) => s.outcome(q('va20', { args: { 'x-delivery-limit': v('b', 3) } })), expected: `${PRECONDITION} 50/10 PRECONDITION_FAILED - invalid arg 'x-delivery-limit' for queue 'va20' in vhost '/' of queue type rabbit_classic_queue` },
  {
    name: 'several bad arguments: the first in RabbitMQ order is named',
    run: (s) => s.outcome(q('va21', { args: { 'x-overflow': S('bogus'), 'x-max-priority': v('s', 300), 'x-message-ttl': v('b', -1), 'x-expires': v('b', 0) } })),
    expected: invalidArg('va21', 'x-expires', '{value_zero,0}'),
  },
  { name: 'exchange type on redeclaration', run: (s) => s.outcome(x('ex1', 'fanout'), x('ex1', 'direct')), expected: inequivalent("exchange 'ex1'", 'type', "'direct'", "'fanout'", '40/10') },
  { name: 'alternate-exchange differs on redeclaration', run: (s) => s.outcome(x('ex2', 'fanout', { 'alternate-exchange': S('a') }), x('ex2', 'fanout', { 'alternate-exchange': S('b') })), expected: inequivalent("exchange 'ex2'", 'alternate-exchange', "'b'", "'a'", '40/10') },
  { name: 'alternate-exchange omitted on redeclaration', run: (s) => s.outcome(x('ex3', 'fanout', { 'alternate-exchange': S('a') }), x('ex3', 'fanout')), expected: inequivalent("exchange 'ex3'", 'alternate-exchange', 'none', "the value 'a' of type 'longstr'", '40/10') },
  { name: 'alternate-exchange as a byte', run: (s) => s.outcome(x('ex5', 'fanout', { 'alternate-exchange': v('b', 1) })), expected: `${PRECONDITION} 40/10 PRECONDITION_FAILED - invalid type 'byte' for arg 'alternate-exchange' in exchange 'ex5' in vhost '/'` },
  { name: 'other exchange arguments differ on redeclaration', run: (s) => s.outcome(x('ex4', 'fanout', { foo: S('a') }), x('ex4', 'fanout', { foo: S('b') })), expected: 'ok' },
  { name: 'consume with x-priority as a string', run: (s) => s.outcome(q('co1', { exclusive: true }), consume('co1', { 'x-priority': S('1') })), expected: `${PRECONDITION} 60/20 PRECONDITION_FAILED - invalid arg 'x-priority' for queue 'co1' in vhost '/': "expected integer, got longstr"` },
  { name: 'consume with x-priority of any integer width', run: (s) => s.outcome(q('co2', { exclusive: true }), consume('co2', { 'x-priority': v('l', 5n) }), consume('co2', { 'x-priority': v('u', 5) })), expected: 'ok' },
  { name: 'consume with x-cancel-on-ha-failover as a byte', run: (s) => s.outcome(q('co3', { exclusive: true }), consume('co3', { 'x-cancel-on-ha-failover': v('b', 1) })), expected: `${PRECONDITION} 60/20 PRECONDITION_FAILED - invalid arg 'x-cancel-on-ha-failover' for queue 'co3' in vhost '/': {unacceptable_type,byte}` },
  { name: 'consume a classic queue with x-stream-offset', run: (s) => s.outcome(q('co4', { exclusive: true }), consume('co4', { 'x-stream-offset': S('first') })), expected: `${PRECONDITION} 60/20 PRECONDITION_FAILED - invalid arg 'x-stream-offset' for queue 'co4' in vhost '/' of queue type rabbit_classic_queue` },
  { name: 'headers binding with x-match bogus', run: (s) => s.outcome(x('hb', 'headers'), q('hb1', { exclusive: true }), queueBind('hb1', 'hb', { 'x-match': S('bogus') })), expected: `${PRECONDITION} 50/20 PRECONDITION_FAILED - Invalid x-match field value <<"bogus">>; expected all, any, all-with-x, or any-with-x` },
  { name: 'headers binding with x-match as a byte', run: (s) => s.outcome(x('hb', 'headers'), q('hb2', { exclusive: true }), queueBind('hb2', 'hb', { 'x-match': v('b', 1) })), expected: `${PRECONDITION} 50/20 PRECONDITION_FAILED - Invalid x-match field type byte (value 1); expected longstr` },
];

/** Headers-exchange matching across value types (RabbitMQ 3.10 compares values with Erlang's `==`). */
export const HEADERS_CASES: ReferenceCase[] = (
  [
    ['a byte binding matches a long header', { n: v('b', 1) }, { n: v('l', 1n) }, true],
    ['a byte binding matches a double header', { n: v('b', 1) }, { n: v('d', 1) }, true],
    ['a byte binding matches a timestamp header', { n: v('b', 1) }, { n: v('T', 1n) }, true],
    ['an unsignedint binding matches a long header', { n: v('i', 4_000_000_000) }, { n: v('l', 4_000_000_000n) }, true],
    ['a float binding matches a double header', { n: v('f', 1.5) }, { n: v('d', 1.5) }, true],
    ['a longstr binding matches a binary header', { n: S('a') }, { n: v('x', Buffer.from('a')) }, true],
    ['a short binding does not match a string header', { n: v('s', 1) }, { n: S('1') }, false],
    ['a bool binding does not match a byte header', { n: v('t', true) }, { n: v('b', 1) }, false],
    ['a decimal binding does not match an integer header', { n: v('D', { scale: 0, digits: 1 }) }, { n: v('b', 1) }, false],
    ['array elements compare with their types', { n: v('A', [v('b', 1)]) }, { n: v('A', [v('l', 1n)]) }, false],
    ['x-match any: one key of another width matches', { 'x-match': S('any'), n: v('I', 7), m: S('no') }, { n: v('u', 7) }, true],
  ] as const
).map(([name, binding, headers, routes], i) => ({
  name,
  run: async (s: Session) => {
    await s.exchange('hx', 'headers');
    await s.declare(`hq${i}`);
    await s.bind(`hq${i}`, 'hx', '', binding);
    s.publish('hx', '', headers);
    return (await s.get(`hq${i}`, { waitMs: routes ? 3000 : 200 })) ? 'routed' : 'not routed';
  },
  expected: routes ? 'routed' : 'not routed',
}));

const death = (queue: string, reason: string, extra: Record<string, FieldValue> = {}) => v('F', table({ queue: S(queue), reason: S(reason), ...extra }));

/** Dead-lettering: the key a message is routed and delivered with, and its x-death headers. */
export const DEAD_LETTER_CASES: ReferenceCase[] = [
  {
    name: 'expired with a dead-letter routing key: delivered with that key, CC dropped, headers sorted',
    run: async (s) => {
      await s.declare('dl-target1');
      await s.declare('dl-copy1');
      await s.declare('dl-ttl', { 'x-message-ttl': v('b', 20), 'x-dead-letter-exchange': S(''), 'x-dead-letter-routing-key': S('dl-target1') });
      s.publish('', 'dl-ttl', { zeta: v('b', 1), CC: v('A', [S('dl-copy1')]), alpha: S('a') }, { expiration: '100000' });
      return s.received('dl-target1');
    },
    expected:
      "exchange '' key 'dl-target1' headers {alpha: S'a', x-death: [{count: l 1, reason: S'expired', queue: S'dl-ttl', time: T now, exchange: S'', routing-keys: [S'dl-ttl', S'dl-copy1'], original-expiration: S'100000'}], x-first-death-exchange: S'', x-first-death-queue: S'dl-ttl', x-first-death-reason: S'expired', zeta: b 1}",
  },
  {
    name: 'rejected with a dead-letter routing key through a direct exchange',
    run: async (s) => {
      await s.exchange('dl-direct', 'direct');
      await s.declare('dl-parked2');
      await s.bind('dl-parked2', 'dl-direct', 'parked');
      await s.declare('dl-work2', { 'x-dead-letter-exchange': S('dl-direct'), 'x-dead-letter-routing-key': S('parked') });
      s.publish('', 'dl-work2', {});
      await s.rejectFrom('dl-work2');
      return s.received('dl-parked2');
    },
    expected:
      "exchange 'dl-direct' key 'parked' headers {x-death: [{count: l 1, reason: S'rejected', queue: S'dl-work2', time: T now, exchange: S'', routing-keys: [S'dl-work2']}], x-first-death-exchange: S'', x-first-death-queue: S'dl-work2', x-first-death-reason: S'rejected'}",
  },
  {
    name: 'dropped from the head for x-max-length, with a dead-letter routing key',
    run: async (s) => {
      await s.declare('dl-target3');
      await s.declare('dl-max', { 'x-max-length': v('b', 1), 'x-dead-letter-exchange': S(''), 'x-dead-letter-routing-key': S('dl-target3') });
      s.publish('', 'dl-max', {});
      s.publish('', 'dl-max', {});
      return s.received('dl-target3');
    },
    expected:
      "exchange '' key 'dl-target3' headers {x-death: [{count: l 1, reason: S'maxlen', queue: S'dl-max', time: T now, exchange: S'', routing-keys: [S'dl-max']}], x-first-death-exchange: S'', x-first-death-queue: S'dl-max', x-first-death-reason: S'maxlen'}",
  },
  {
    name: 'refused by reject-publish-dlx, with a dead-letter routing key',
    run: async (s) => {
      await s.declare('dl-target4');
      await s.declare('dl-full', { 'x-max-length': v('b', 0), 'x-overflow': S('reject-publish-dlx'), 'x-dead-letter-exchange': S(''), 'x-dead-letter-routing-key': S('dl-target4') });
      s.publish('', 'dl-full', {});
      return s.received('dl-target4');
    },
    expected:
      "exchange '' key 'dl-target4' headers {x-death: [{count: l 1, reason: S'maxlen', queue: S'dl-full', time: T now, exchange: S'', routing-keys: [S'dl-full']}], x-first-death-exchange: S'', x-first-death-queue: S'dl-full', x-first-death-reason: S'maxlen'}",
  },
  {
    name: 'without a dead-letter routing key: its own key, CC kept',
    run: async (s) => {
      await s.exchange('dl-fan', 'fanout');
      await s.declare('dl-fanned5');
      await s.bind('dl-fanned5', 'dl-fan');
      await s.declare('dl-copy5');
      await s.declare('dl-work5', { 'x-dead-letter-exchange': S('dl-fan') });
      s.publish('', 'dl-work5', { CC: v('A', [S('dl-copy5')]) });
      await s.rejectFrom('dl-work5');
      return s.received('dl-fanned5');
    },
    expected:
      "exchange 'dl-fan' key 'dl-work5' headers {CC: [S'dl-copy5'], x-death: [{count: l 1, reason: S'rejected', queue: S'dl-work5', time: T now, exchange: S'', routing-keys: [S'dl-work5', S'dl-copy5']}], x-first-death-exchange: S'', x-first-death-queue: S'dl-work5', x-first-death-reason: S'rejected'}",
  },
  ...(
    [
      ['a signedint', v('I', 1), 'l 2'],
      ['a byte', v('b', 4), 'l 5'],
      ['an unsignedshort', v('u', 7), 'l 8'],
      ['a long', v('l', 9n), 'l 10'],
      ['a timestamp', v('T', 3n), 'l 4'],
      ['no', undefined, 'l 1'],
    ] as const
  ).map(([kind, count, counted], i) => ({
    name: `republished with ${kind} count, rejected again: counted on as a long, time kept`,
    run: async (s: Session) => {
      await s.declare(`dl-parked6-${i}`);
      await s.declare(`dl-work6-${i}`, { 'x-dead-letter-exchange': S(''), 'x-dead-letter-routing-key': S(`dl-parked6-${i}`) });
      const entry = table({ exchange: S(''), queue: S(`dl-work6-${i}`), reason: S('rejected'), 'routing-keys': v('A', [S(`dl-work6-${i}`)]), time: v('T', 1000n) });
      if (count) entry.set('count', count);
      s.publish('', `dl-work6-${i}`, { 'x-death': v('A', [v('F', entry)]), 'x-first-death-queue': S('elsewhere') });
      await s.rejectFrom(`dl-work6-${i}`);
      return s.received(`dl-parked6-${i}`);
    },
    expected: `exchange '' key 'dl-parked6-${i}' headers {x-death: [{count: ${counted}, exchange: S'', queue: S'dl-work6-${i}', reason: S'rejected', routing-keys: [S'dl-work6-${i}'], time: T 1000}], x-first-death-queue: S'elsewhere'}`,
  })),
  {
    name: 'a chain of rejections a, b, c, a, b, c: one counted entry per queue, in RabbitMQ order',
    run: async (s) => {
      await s.declare('dl-a', { 'x-dead-letter-exchange': S(''), 'x-dead-letter-routing-key': S('dl-b') });
      await s.declare('dl-b', { 'x-dead-letter-exchange': S(''), 'x-dead-letter-routing-key': S('dl-c') });
      await s.declare('dl-c', { 'x-dead-letter-exchange': S(''), 'x-dead-letter-routing-key': S('dl-a') });
      s.publish('', 'dl-a');
      for (const queue of ['dl-a', 'dl-b', 'dl-c', 'dl-a', 'dl-b', 'dl-c']) await s.rejectFrom(queue);
      return s.received('dl-a');
    },
    expected:
      "exchange '' key 'dl-a' headers {x-death: [{count: l 2, exchange: S'', queue: S'dl-c', reason: S'rejected', routing-keys: [S'dl-c'], time: T now}, {count: l 2, exchange: S'', queue: S'dl-a', reason: S'rejected', routing-keys: [S'dl-a'], time: T now}, {count: l 2, exchange: S'', queue: S'dl-b', reason: S'rejected', routing-keys: [S'dl-b'], time: T now}], x-first-death-exchange: S'', x-first-death-queue: S'dl-a', x-first-death-reason: S'rejected'}",
  },
  {
    name: 'x-death that is not an array starts over',
    run: async (s) => {
      await s.declare('dl-target8');
      await s.declare('dl-work8', { 'x-dead-letter-exchange': S(''), 'x-dead-letter-routing-key': S('dl-target8') });
      s.publish('', 'dl-work8', { 'x-death': S('bogus') });
      await s.rejectFrom('dl-work8');
      return s.received('dl-target8');
    },
    expected: "exchange '' key 'dl-target8' headers {x-death: [{count: l 1, reason: S'rejected', queue: S'dl-work8', time: T now, exchange: S'', routing-keys: [S'dl-work8']}]}",
  },
  {
    name: 'x-death entries of one queue and reason are merged and counted',
    run: async (s) => {
      await s.declare('dl-target9');
      await s.declare('dl-work9', { 'x-dead-letter-exchange': S(''), 'x-dead-letter-routing-key': S('dl-target9') });
      s.publish('', 'dl-work9', { 'x-death': v('A', [death('q1', 'expired'), death('q2', 'maxlen'), death('q1', 'expired'), death('q3', 'expired', { count: v('l', 5n) })]) });
      await s.rejectFrom('dl-work9');
      return s.received('dl-target9');
    },
    expected:
      "exchange '' key 'dl-target9' headers {x-death: [{count: l 1, exchange: S'', queue: S'dl-work9', reason: S'rejected', routing-keys: [S'dl-work9'], time: T now}, {queue: S'q3', reason: S'expired', count: l 5}, {count: l 1, queue: S'q2', reason: S'maxlen'}, {count: l 2, queue: S'q1', reason: S'expired'}]}",
  },
  {
    name: 'expiring into a queue the message expired from before, with a rejection after it: delivered',
    run: async (s) => {
      await s.declare('dl-dst10');
      await s.declare('dl-src10', { 'x-message-ttl': v('b', 20), 'x-dead-letter-exchange': S(''), 'x-dead-letter-routing-key': S('dl-dst10') });
      s.publish('', 'dl-src10', { 'x-death': v('A', [death('dl-dst10', 'expired', { count: v('l', 1n) }), death('other', 'rejected', { count: v('l', 1n) })]) });
      return s.received('dl-dst10');
    },
    expected:
      "exchange '' key 'dl-dst10' headers {x-death: [{count: l 1, exchange: S'', queue: S'dl-src10', reason: S'expired', routing-keys: [S'dl-src10'], time: T now}, {queue: S'other', reason: S'rejected', count: l 1}, {queue: S'dl-dst10', reason: S'expired', count: l 1}]}",
  },
  {
    name: 'expiring into a queue the message expired from before, with no rejection since: dropped as a cycle',
    run: async (s) => {
      await s.declare('dl-dst11');
      await s.declare('dl-src11', { 'x-message-ttl': v('b', 20), 'x-dead-letter-exchange': S(''), 'x-dead-letter-routing-key': S('dl-dst11') });
      s.publish('', 'dl-src11', { 'x-death': v('A', [death('other', 'rejected', { count: v('l', 1n) }), death('dl-dst11', 'expired', { count: v('l', 1n) })]) });
      return s.received('dl-dst11', 400);
    },
    expected: 'nothing',
  },
];

/** Publishes with a CC or BCC header that is not an array, or an expiration that is not a number of milliseconds. */
export const PUBLISH_CASES: ReferenceCase[] = [
  { name: 'CC as a string', run: async (s) => (s.publish('', 'nowhere', { CC: S('a') }), closedBy(s)), expected: `${PRECONDITION} 60/40 PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,"CC",longstr}` },
  { name: 'BCC as a long', run: async (s) => (s.publish('', 'nowhere', { BCC: v('l', 1n) }), closedBy(s)), expected: `${PRECONDITION} 60/40 PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,"BCC",long}` },
  ...(
    [
      ['abc', 'no_integer'],
      [' 5', 'no_integer'],
      ['-1', '{value_negative,-1}'],
      ['10abc', '{leftover_string,"abc"}'],
      ['315360000001', '{value_too_large,315360000001}'],
      ['+5', undefined],
      ['00012', undefined],
    ] as const
  ).map(([expiration, reason]) => ({
    name: `expiration '${expiration}'`,
    run: async (s: Session) => (s.publish('', 'nowhere', undefined, { expiration }), closedBy(s)),
    expected: reason ? `${PRECONDITION} 60/40 PRECONDITION_FAILED - invalid expiration '${expiration}': ${reason}` : 'not closed',
  })),
];

/** Other channel errors, and the methods RabbitMQ answers although there is nothing to do. */
export const CHANNEL_CASES: ReferenceCase[] = [
  { name: 'queue.unbind of a queue that does not exist', run: (s) => s.outcome(['queue.unbind', { ticket: 0, queue: 'nowhere', exchange: 'amq.direct', routingKey: 'k', arguments: table() }]), expected: 'ok' },
  { name: 'exchange.unbind of an exchange that does not exist', run: (s) => s.outcome(['exchange.unbind', { ticket: 0, destination: 'nowhere', source: 'amq.direct', routingKey: 'k', nowait: false, arguments: table() }]), expected: 'ok' },
  { name: 'exchange.bind to the default exchange', run: (s) => s.outcome(['exchange.bind', { ticket: 0, destination: '', source: 'amq.direct', routingKey: 'k', nowait: false, arguments: table() }]), expected: 'channel.close 403 40/30 ACCESS_REFUSED - operation not permitted on the default exchange' },
  { name: 'declaring the default exchange', run: (s) => s.outcome(x('', 'direct')), expected: 'channel.close 403 40/10 ACCESS_REFUSED - operation not permitted on the default exchange' },
  { name: 'declaring the default exchange passively', run: (s) => s.outcome(['exchange.declare', { ...declareExchange('', 'direct'), passive: true }]), expected: 'channel.close 403 40/10 ACCESS_REFUSED - operation not permitted on the default exchange' },
  {
    name: 'nack with multiple of a tag never delivered',
    run: async (s) => (s.wire.method(1, 'basic.nack', { deliveryTag: 42, multiple: true, requeue: true }), closedBy(s)),
    expected: `${PRECONDITION} 60/120 PRECONDITION_FAILED - unknown delivery tag 42`,
  },
  {
    name: 'ack with multiple of a tag already acked: refused, nothing acked',
    run: async (s) => {
      await s.declare('ch-acks');
      for (let i = 0; i < 3; i++) s.publish('', 'ch-acks');
      for (let i = 0; i < 3; i++) await s.get('ch-acks', { noAck: false }); // delivery tags 1, 2, 3
      s.wire.method(1, 'basic.ack', { deliveryTag: 3, multiple: false });
      s.wire.method(1, 'basic.ack', { deliveryTag: 3, multiple: true });
      const refused = await closedBy(s);
      s.wire.method(1, 'channel.close-ok', {});
      // The closed channel's unacked messages go back to the queue (RabbitMQ's queue takes a moment).
      const after = await Session.open(s.port);
      let ready = 0;
      for (const until = Date.now() + 2000; ready < 2 && Date.now() < until; await sleep(20)) {
        after.wire.method(1, 'queue.declare', { ...declareQueue('ch-acks'), passive: true });
        ready = ((await after.reply())?.args as MethodArgs['queue.declare-ok']).messageCount;
      }
      after.close();
      return `${refused}; then ${ready} ready`;
    },
    expected: `${PRECONDITION} 60/80 PRECONDITION_FAILED - unknown delivery tag 3; then 2 ready`,
  },
];

async function closedBy(s: Session): Promise<string> {
  const reply = await s.reply(1000);
  return reply ? closed(reply) : 'not closed';
}

/** Methods on one channel, and connection.close, are answered in the order they were sent. */
export const ORDER_CASES: ReferenceCase[] = [
  {
    name: 'queue.delete then channel.close: delete-ok first',
    run: async (s) => {
      await s.call('queue.declare', declareQueue('or1', { durable: true }));
      s.wire.method(1, 'queue.delete', { ticket: 0, queue: 'or1', ifUnused: false, ifEmpty: false, nowait: false });
      s.wire.method(1, 'channel.close', { replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 });
      return `${(await s.reply())?.name}, ${(await s.reply())?.name}`;
    },
    expected: 'queue.delete-ok, channel.close-ok',
  },
  {
    name: 'queue.delete, queue.declare and exchange.delete then connection.close: every reply before close-ok',
    run: async (s) => {
      await s.call('queue.declare', declareQueue('or2', { durable: true }));
      await s.call('exchange.declare', declareExchange('or2x', 'fanout', {}, true));
      s.wire.method(1, 'queue.delete', { ticket: 0, queue: 'or2', ifUnused: false, ifEmpty: false, nowait: false });
      s.wire.method(1, 'queue.declare', declareQueue('or2b', { durable: true }));
      s.wire.method(1, 'exchange.delete', { ticket: 0, exchange: 'or2x', ifUnused: false, nowait: false });
      s.wire.method(0, 'connection.close', { replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 });
      const replies: string[] = [];
      for (let reply = await s.reply(); reply; reply = reply.name === 'connection.close-ok' ? undefined : await s.reply()) replies.push(reply.name);
      return replies.join(', ');
    },
    expected: 'queue.delete-ok, queue.declare-ok, exchange.delete-ok, connection.close-ok',
  },
];

export const REFERENCE_CASES: Record<string, ReferenceCase[]> = {
  'queue, exchange and consumer arguments': ARGUMENT_CASES,
  'headers exchange matching': HEADERS_CASES,
  'dead-lettering': DEAD_LETTER_CASES,
  'publish properties': PUBLISH_CASES,
  'channel errors and no-ops': CHANNEL_CASES,
  'method order': ORDER_CASES,
};

/** Runs one case on a fresh connection. */
export async function runCase(port: number, c: ReferenceCase): Promise<string> {
  const session = await Session.open(port);
  try {
    return await c.run(session);
  } finally {
    session.close();
  }
}
