import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { field, PROTOCOL_HEADER } from '../../plugins/rabbit/codec/index.ts';
import { startAmqp, type AmqpTestBroker } from '../helpers/amqp.ts';
import { AmqpWire } from '../helpers/amqp-wire.ts';

let broker: AmqpTestBroker | undefined;
afterEach(async () => {
  await broker?.stop();
  broker = undefined;
});

const users = [
  { name: 'guest', password: 'guest', loopbackOnly: true, permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } },
  { name: 'reader', password: 'secret', permissions: { '/': { configure: '^reader-', write: '^reader-', read: '.*' }, shop: { configure: '.*', write: '.*', read: '.*' } } },
];

describe('AMQP connections', () => {
  it('advertises RabbitMQ\'s product, mechanisms, capabilities and tune values', async () => {
    broker = await startAmqp();
    const wire = await AmqpWire.connectRaw(broker.port);
    wire.socket.write(PROTOCOL_HEADER);
    const start = await wire.expect('connection.start');
    expect(start.args.mechanisms.toString()).toBe('AMQPLAIN PLAIN');
    expect(start.args.serverProperties.get('product')).toEqual(field.string('RabbitMQ'));
    const caps = start.args.serverProperties.get('capabilities') as { type: 'F'; value: Map<string, unknown> };
    expect([...caps.value.keys()].sort()).toEqual(
      ['authentication_failure_close', 'basic.nack', 'connection.blocked', 'consumer_cancel_notify', 'consumer_priorities', 'direct_reply_to', 'exchange_exchange_bindings', 'per_consumer_qos', 'publisher_confirms'].sort(),
    );
    wire.method(0, 'connection.start-ok', { clientProperties: new Map(), mechanism: 'PLAIN', response: Buffer.from('\u0000guest\u0000guest'), locale: 'en_US' });
    const tune = await wire.expect('connection.tune');
    expect(tune.args).toEqual({ channelMax: 2047, frameMax: 131072, heartbeat: 60 });
    wire.close();
  });

  it('logs in with PLAIN and AMQPLAIN, refuses bad passwords with 403 (authentication_failure_close), unknown vhosts with 530', async () => {
    broker = await startAmqp({ amqp: { users, vhosts: ['/', 'shop'] } });
    const plain = await broker.connect({ user: 'reader', password: 'secret' });
    await plain.close();
    const amqplain = await amqp.connect(`amqp://reader:secret@127.0.0.1:${broker.port}/shop`, { credentials: amqp.credentials.amqplain('reader', 'secret') });
    await amqplain.close();
    await expect(broker.connect({ user: 'reader', password: 'wrong' })).rejects.toThrow(/403 \(ACCESS-REFUSED\).*ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN/);
    const openClose = async (user: string, password: string, vhost: string) => {
      const wire = await AmqpWire.connectRaw(broker!.port);
      wire.socket.write(PROTOCOL_HEADER);
      await wire.expect('connection.start');
      wire.method(0, 'connection.start-ok', { clientProperties: new Map(), mechanism: 'PLAIN', response: Buffer.from(`\u0000${user}\u0000${password}`), locale: 'en_US' });
      await wire.expect('connection.tune');
      wire.method(0, 'connection.tune-ok', { channelMax: 0, frameMax: 131072, heartbeat: 0 });
      wire.method(0, 'connection.open', { virtualHost: vhost, capabilities: '', insist: true });
      const close = await wire.expect('connection.close');
      wire.close();
      return [close.args.replyCode, close.args.replyText, close.args.classId, close.args.methodId];
    };
    expect(await openClose('guest', 'guest', 'no-such-vhost')).toEqual([530, 'NOT_ALLOWED - vhost no-such-vhost not found', 10, 40]);
    expect(await openClose('guest', 'guest', 'shop')).toEqual([530, "NOT_ALLOWED - access to vhost 'shop' refused for user 'guest'", 10, 40]);
  });

  it('applies configure, write and read permissions per vhost', async () => {
    broker = await startAmqp({ amqp: { users } });
    const conn = await broker.connect({ user: 'reader', password: 'secret' });
    const ch = await conn.createChannel();
    await ch.assertQueue('reader-inbox');
    const denied = await conn.createChannel();
    const closed = new Promise<{ code: number; message: string }>((resolve) => denied.on('error', resolve));
    await denied.assertQueue('admin-only').catch(() => undefined);
    const err = await closed;
    expect(err.code).toBe(403);
    expect(err.message).toContain("ACCESS_REFUSED - access to queue 'admin-only' in vhost '/' refused for user 'reader'");
    await conn.close();
  });

  it('negotiates heartbeats and sends them when idle; closes a client that stops sending them', async () => {
    broker = await startAmqp({ amqp: { heartbeat: 1 } });
    const wire = await AmqpWire.connectRaw(broker.port);
    wire.socket.write(PROTOCOL_HEADER);
    await wire.expect('connection.start');
    wire.method(0, 'connection.start-ok', { clientProperties: new Map(), mechanism: 'PLAIN', response: Buffer.from('\u0000guest\u0000guest'), locale: 'en_US' });
    await wire.expect('connection.tune');
    wire.method(0, 'connection.tune-ok', { channelMax: 0, frameMax: 131072, heartbeat: 1 });
    wire.method(0, 'connection.open', { virtualHost: '/', capabilities: '', insist: false });
    await wire.expect('connection.open-ok');
    const started = Date.now();
    await wire.closed;
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThan(1500);
    expect(waited).toBeLessThan(5000);
    expect(Buffer.concat(wire.raw).includes(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0xce]))).toBe(true);
  });

  it('accepts update-secret, and blocks publishers above the memory watermark (connection.blocked)', async () => {
    broker = await startAmqp({ amqp: { memoryHighWatermark: 1 } });
    const conn = await broker.connect();
    const blocked = new Promise<string>((resolve) => conn.on('blocked', (reason: string) => resolve(reason)));
    expect(await blocked).toBe('low on memory');
    await (conn as unknown as { updateSecret(secret: Buffer, reason: string): Promise<void> }).updateSecret(Buffer.from('new'), 'rotation');
    await conn.close();
  });
});
