import type { Channel, ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAME_END, FrameType } from '../../plugins/rabbit/codec/index.ts';
import { startAmqp, type AmqpTestBroker } from '../helpers/amqp.ts';
import { AmqpWire } from '../helpers/amqp-wire.ts';

let broker: AmqpTestBroker;
let conn: ChannelModel;
beforeAll(async () => {
  broker = await startAmqp({ amqp: { frameMax: 131072 } });
  conn = await broker.connect();
  conn.on('error', () => undefined);
});
afterAll(async () => {
  await conn.close().catch(() => undefined);
  await broker.stop();
});

interface Closed {
  code: number;
  message: string;
  classId: number;
  methodId: number;
}

/** Runs `act` on a fresh channel and returns how the channel closed. */
async function channelError(act: (ch: Channel) => Promise<unknown> | unknown, on: ChannelModel = conn): Promise<Closed> {
  const ch = await on.createChannel();
  const closed = new Promise<Closed>((resolve) => ch.on('error', (err: Closed) => resolve(err)));
  await Promise.resolve(act(ch)).catch(() => undefined);
  return closed;
}

/** Runs `act` on a fresh connection and returns its connection.close. */
async function connectionError(act: (ch: Channel) => Promise<unknown> | unknown): Promise<Closed> {
  const c = await broker.connect();
  const closed = new Promise<Closed>((resolve) => c.on('error', (err: Closed) => resolve(err)));
  const ch = await c.createChannel();
  ch.on('error', () => undefined);
  await Promise.resolve(act(ch)).catch(() => undefined);
  return closed;
}

const ids = (e: Closed) => [e.code, e.classId, e.methodId];

describe('AMQP error table (codes, channel vs connection, class/method, RabbitMQ texts)', () => {
  it('404 NOT_FOUND for missing queues and exchanges, and "" with no queue declared', async () => {
    const passive = await channelError((ch) => ch.checkQueue('missing'));
    expect(ids(passive)).toEqual([404, 50, 10]);
    expect(passive.message).toMatch(/NOT_FOUND - no queue 'missing' in vhost '\/'/);
    expect(ids(await channelError((ch) => ch.purgeQueue('missing')))).toEqual([404, 50, 30]);
    expect(ids(await channelError((ch) => ch.consume('missing', () => undefined)))).toEqual([404, 60, 20]);
    expect(ids(await channelError((ch) => ch.get('missing')))).toEqual([404, 60, 70]);
    const exchange = await channelError((ch) => ch.checkExchange('nope'));
    expect(ids(exchange)).toEqual([404, 40, 10]);
    expect(exchange.message).toMatch(/NOT_FOUND - no exchange 'nope' in vhost '\/'/);
    expect(ids(await channelError((ch) => ch.publish('nope', 'k', Buffer.from('x'))))).toEqual([404, 60, 40]);
    expect(ids(await channelError(async (ch) => (await ch.assertQueue('', { exclusive: true }), ch.bindQueue('', 'nope', 'k'))))).toEqual([404, 50, 20]);
    const noPrevious = await channelError((ch) => ch.get(''));
    expect(ids(noPrevious)).toEqual([404, 60, 70]);
    expect(noPrevious.message).toMatch(/NOT_FOUND - no previously declared queue/);
  });

  it('405 RESOURCE_LOCKED when another connection touches an exclusive queue', async () => {
    const owner = await conn.createChannel();
    await owner.assertQueue('locked', { exclusive: true });
    const other = await broker.connect();
    for (const [act, cm] of [
      [(ch: Channel) => ch.assertQueue('locked', { exclusive: true }), [50, 10]],
      [(ch: Channel) => ch.checkQueue('locked'), [50, 10]],
      [(ch: Channel) => ch.consume('locked', () => undefined), [60, 20]],
      [(ch: Channel) => ch.get('locked'), [60, 70]],
    ] as const) {
      const err = await channelError(act, other);
      expect(ids(err)).toEqual([405, ...cm]);
      expect(err.message).toMatch(/RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'locked' in vhost '\/'/);
    }
    await other.close();
  });

  it('406 PRECONDITION_FAILED for inequivalent redeclarations, if-empty/if-unused deletes, tx misuse and bad x-args', async () => {
    const ch = await conn.createChannel();
    await ch.assertQueue('equiv', { durable: false, arguments: { 'x-max-length': 5 } });
    const durable = await channelError((c) => c.assertQueue('equiv', { durable: true, arguments: { 'x-max-length': 5 } }));
    expect(ids(durable)).toEqual([406, 50, 10]);
    expect(durable.message).toMatch(/inequivalent arg 'durable' for queue 'equiv' in vhost '\/': received 'true' but current is 'false'/);
    const omitted = await channelError((c) => c.assertQueue('equiv', { durable: false }));
    expect(omitted.message).toMatch(/inequivalent arg 'x-max-length' for queue 'equiv' in vhost '\/': received none but current is the value '5' of type 'byte'/);
    await ch.assertExchange('typed', 'fanout');
    const type = await channelError((c) => c.assertExchange('typed', 'direct'));
    expect(ids(type)).toEqual([406, 40, 10]);
    expect(type.message).toMatch(/inequivalent arg 'type' for exchange 'typed' in vhost '\/': received 'direct' but current is 'fanout'/);
    await ch.assertQueue('full');
    ch.sendToQueue('full', Buffer.from('x'));
    await new Promise((r) => setTimeout(r, 30));
    const notEmpty = await channelError((c) => c.deleteQueue('full', { ifEmpty: true }));
    expect([...ids(notEmpty), notEmpty.message.includes("queue 'full' in vhost '/' not empty")]).toEqual([406, 50, 40, true]);
    await ch.consume('full', () => undefined);
    const inUse = await channelError((c) => c.deleteQueue('full', { ifUnused: true }));
    expect(inUse.message).toMatch(/in use/);
    for (const [args, text] of [
      [{ 'x-max-priority': 300 }, /invalid arg 'x-max-priority' for queue 'bad' in vhost '\/': \{max_value_exceeded,300\}/],
      [{ 'x-overflow': 'bogus' }, /invalid_overflow/],
      [{ 'x-message-ttl': -1 }, /\{value_negative,-1\}/],
      [{ 'x-expires': 0 }, /\{value_zero,0\}/],
      [{ 'x-queue-type': 'bogus' }, /unsupported queue type 'bogus'/],
      [{ 'x-dead-letter-routing-key': 'k' }, /routing_key_but_no_dlx_defined/],
    ] as const) {
      const err = await channelError((c) => c.assertQueue('bad', { arguments: args }));
      expect(ids(err)).toEqual([406, 50, 10]);
      expect(err.message).toMatch(text);
    }
    const expiration = await channelError((c) => c.sendToQueue('full', Buffer.from('x'), { expiration: 'abc' }));
    expect(ids(expiration)).toEqual([406, 60, 40]);
    expect(expiration.message).toContain("PRECONDITION_FAILED - invalid expiration 'abc': no_integer");
    const userId = await channelError((c) => c.sendToQueue('full', Buffer.from('x'), { userId: 'mallory' }));
    expect(userId.message).toMatch(/user_id property set to 'mallory' but authenticated user was 'guest'/);
    await ch.deleteQueue('full');
  });

  it('403 ACCESS_REFUSED for reserved names, system and default exchanges, internal exchanges and exclusive consumers', async () => {
    expect((await channelError((c) => c.assertQueue('amq.mine'))).message).toMatch(/ACCESS_REFUSED - queue name 'amq.mine' contains reserved prefix 'amq\.\*'/);
    expect(ids(await channelError((c) => c.assertExchange('amq.mine', 'direct')))).toEqual([403, 40, 10]);
    const system = await channelError((c) => c.deleteExchange('amq.direct'));
    expect([...ids(system), system.message.includes("deletion of system exchange 'amq.direct'")]).toEqual([403, 40, 20, true]);
    const defaultBind = await channelError(async (c) => (await c.assertQueue('', { exclusive: true }), c.bindQueue('', '', 'k')));
    expect(ids(defaultBind)).toEqual([403, 50, 20]);
    expect(defaultBind.message).toContain('ACCESS_REFUSED - operation not permitted on the default exchange');
    const internal = await channelError(async (c) => (await c.assertExchange('inside', 'topic', { internal: true }), c.publish('inside', 'k', Buffer.from('x'))));
    expect([...ids(internal), internal.message.includes('cannot publish to internal exchange')]).toEqual([403, 60, 40, true]);
    const ch = await conn.createChannel();
    await ch.assertQueue('exclusive-use');
    await ch.consume('exclusive-use', () => undefined, { exclusive: true });
    const exclusive = await channelError((c) => c.consume('exclusive-use', () => undefined));
    expect(ids(exclusive)).toEqual([403, 60, 20]);
    expect(exclusive.message).toContain("ACCESS_REFUSED - queue 'exclusive-use' in vhost '/' in exclusive use");
    await ch.deleteQueue('exclusive-use');
  });

  it('connection errors: 530 reused consumer tag, 540 unsupported features, 503 unknown exchange type', async () => {
    const hardClose = async (act: (wire: AmqpWire) => void) => {
      const wire = await AmqpWire.open(broker.port);
      wire.method(1, 'channel.open', { outOfBand: '' });
      await wire.expect('channel.open-ok');
      act(wire);
      let method = await wire.next();
      while (method.name !== 'connection.close') method = await wire.next();
      wire.close();
      const a = method.args as { replyCode: number; replyText: string; classId: number; methodId: number };
      return [a.replyCode, a.replyText, a.classId, a.methodId];
    };
    const consume = (tag: string) => ({ ticket: 0, queue: 'tagged', consumerTag: tag, noLocal: false, noAck: true, exclusive: false, nowait: false, arguments: new Map() });
    expect(
      await hardClose((w) => {
        w.method(1, 'queue.declare', { ticket: 0, queue: 'tagged', passive: false, durable: false, exclusive: true, autoDelete: false, nowait: false, arguments: new Map() });
        w.method(1, 'basic.consume', consume('dup'));
        w.method(1, 'basic.consume', consume('dup'));
      }),
    ).toEqual([530, "NOT_ALLOWED - attempt to reuse consumer tag 'dup'", 60, 20]);
    expect(await hardClose((w) => w.method(1, 'basic.qos', { prefetchSize: 1000, prefetchCount: 1, global: false }))).toEqual([540, 'NOT_IMPLEMENTED - prefetch_size!=0 (1000)', 60, 10]);
    expect(await hardClose((w) => w.method(1, 'basic.publish', { ticket: 0, exchange: '', routingKey: 'x', mandatory: false, immediate: true }))).toEqual([540, 'NOT_IMPLEMENTED - immediate=true', 60, 40]);
    expect(await hardClose((w) => w.method(1, 'basic.recover', { requeue: false }))).toEqual([540, 'NOT_IMPLEMENTED - requeue=false', 60, 110]);
    expect(await hardClose((w) => w.method(1, 'channel.flow', { active: false }))).toEqual([540, 'NOT_IMPLEMENTED - active=false', 20, 20]);
    const unknownType = await connectionError((ch) => ch.assertExchange('weird', 'bogus'));
    expect([unknownType.code, unknownType.message.includes("COMMAND_INVALID - unknown exchange type 'bogus'")]).toEqual([503, true]);
  });

  it('504, 505 and 501 close the connection with RabbitMQ\'s texts', async () => {
    const twice = await AmqpWire.open(broker.port);
    twice.method(1, 'channel.open', { outOfBand: '' });
    await twice.expect('channel.open-ok');
    twice.method(1, 'channel.open', { outOfBand: '' });
    const second = await twice.expect('connection.close');
    expect([second.args.replyCode, second.args.replyText, second.args.classId, second.args.methodId]).toEqual([504, "CHANNEL_ERROR - second 'channel.open' seen", 20, 10]);
    twice.close();

    const unopened = await AmqpWire.open(broker.port);
    unopened.method(3, 'queue.declare', { ticket: 0, queue: 'q', passive: false, durable: false, exclusive: false, autoDelete: false, nowait: false, arguments: new Map() });
    const expected = await unopened.expect('connection.close');
    expect([expected.args.replyCode, expected.args.replyText, expected.args.classId, expected.args.methodId]).toEqual([504, "CHANNEL_ERROR - expected 'channel.open'", 50, 10]);
    unopened.close();

    const headerFirst = await AmqpWire.open(broker.port);
    headerFirst.method(1, 'channel.open', { outOfBand: '' });
    await headerFirst.expect('channel.open-ok');
    headerFirst.socket.write(Buffer.from([FrameType.header, 0, 1, 0, 0, 0, 14, 0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, FRAME_END]));
    const unexpected = await headerFirst.expect('connection.close');
    expect([unexpected.args.replyCode, unexpected.args.replyText]).toEqual([505, 'UNEXPECTED_FRAME - expected method frame, got non method frame instead']);
    headerFirst.close();

    const big = await AmqpWire.open(broker.port, { frameMax: 4096 });
    big.socket.write(Buffer.concat([Buffer.from([FrameType.body, 0, 1, 0, 0, 0x20, 0]), Buffer.alloc(0x2000), Buffer.from([FRAME_END])]));
    const tooLarge = await big.expect('connection.close');
    expect([tooLarge.args.replyCode, tooLarge.args.replyText.startsWith('FRAME_ERROR - ')]).toEqual([501, true]);
    big.close();

    const badEnd = await AmqpWire.open(broker.port);
    badEnd.socket.write(Buffer.from([FrameType.heartbeat, 0, 0, 0, 0, 0, 0, 0]));
    const marker = await badEnd.expect('connection.close');
    expect([marker.args.replyCode, marker.args.replyText]).toEqual([501, 'FRAME_ERROR - invalid frame end marker 0']);
    badEnd.close();
  });

  it('406 for transaction misuse: commit without select, switching between tx and confirm modes', async () => {
    const channelClose = async (steps: Array<[string, object]>) => {
      const wire = await AmqpWire.open(broker.port);
      wire.method(1, 'channel.open', { outOfBand: '' });
      await wire.expect('channel.open-ok');
      for (const [name, args] of steps) wire.method(1, name as never, args as never);
      let method = await wire.next();
      while (method.name !== 'channel.close') method = await wire.next();
      wire.close();
      const a = method.args as { replyCode: number; replyText: string; classId: number; methodId: number };
      return [a.replyCode, a.replyText, a.classId, a.methodId];
    };
    expect(await channelClose([['tx.commit', {}]])).toEqual([406, 'PRECONDITION_FAILED - channel is not transactional', 90, 20]);
    expect(await channelClose([['confirm.select', { nowait: false }], ['tx.select', {}]])).toEqual([406, 'PRECONDITION_FAILED - cannot switch from confirm to tx mode', 90, 10]);
    expect(await channelClose([['tx.select', {}], ['confirm.select', { nowait: false }]])).toEqual([406, 'PRECONDITION_FAILED - cannot switch from tx to confirm mode', 85, 10]);
  });

  it('answers a wrong protocol header with its own and closes', async () => {
    const wire = await AmqpWire.connectRaw(broker.port);
    wire.socket.write(Buffer.from('AMQP\u0000\u0000\u0008\u0000'));
    await wire.closed;
    expect(Buffer.concat(wire.raw).toString('latin1')).toBe('AMQP\u0000\u0000\u0009\u0001');
  });

  it('keeps idempotent operations quiet: deleting what is missing, unbinding what is not bound, cancelling an unknown tag', async () => {
    const ch = await conn.createChannel();
    await ch.deleteExchange('never-was');
    expect(await ch.deleteQueue('never-was')).toEqual({ messageCount: 0 });
    await ch.assertQueue('unbind-me', { exclusive: true });
    await ch.unbindQueue('unbind-me', 'amq.direct', 'not-bound');
    expect(await ch.cancel('no-such-tag')).toMatchObject({ consumerTag: 'no-such-tag' });
    await ch.close();
  });
});
