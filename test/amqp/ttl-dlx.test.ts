import type { Channel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeN, startAmqp, text, type AmqpTestBroker } from '../helpers/amqp.ts';

let broker: AmqpTestBroker;
beforeAll(async () => {
  broker = await startAmqp();
});
afterAll(() => broker.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function deadLetterTarget(ch: Channel, name: string): Promise<string> {
  await ch.assertExchange(`${name}-dlx`, 'fanout');
  const q = await ch.assertQueue(`${name}-dead`, { exclusive: true });
  await ch.bindQueue(q.queue, `${name}-dlx`, '');
  return q.queue;
}

describe('TTL, dead-lettering and max-length with amqplib', () => {
  it('makes a delay queue from x-message-ttl and a DLX, with RabbitMQ\'s x-death headers', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    const dead = await deadLetterTarget(ch, 'delay');
    await ch.assertQueue('delay-wait', { exclusive: true, messageTtl: 150, deadLetterExchange: 'delay-dlx' });
    const sent = Date.now();
    ch.publish('', 'delay-wait', Buffer.from('later'), { headers: { mine: 'kept' }, messageId: 'id-1' });
    const [m] = await consumeN(ch, dead, 1);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(140);
    const h = m!.properties.headers!;
    expect(text(m!)).toBe('later');
    expect(m!.properties.messageId).toBe('id-1');
    expect(h.mine).toBe('kept');
    expect(h['x-first-death-reason']).toBe('expired');
    expect(h['x-first-death-queue']).toBe('delay-wait');
    expect(h['x-first-death-exchange']).toBe('');
    const [death] = h['x-death'] as unknown as Array<Record<string, unknown>>;
    expect(death).toMatchObject({ count: 1, reason: 'expired', queue: 'delay-wait', exchange: '', 'routing-keys': ['delay-wait'] });
    expect(death!.time).toMatchObject({ '!': 'timestamp' });
    await conn.close();
  });

  it('expires a message by its own expiration at the head, keeping original-expiration', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    const dead = await deadLetterTarget(ch, 'per-message');
    await ch.assertQueue('per-message-wait', { exclusive: true, deadLetterExchange: 'per-message-dlx' });
    ch.sendToQueue('per-message-wait', Buffer.from('short'), { expiration: '50' });
    const [m] = await consumeN(ch, dead, 1);
    const [death] = m!.properties.headers!['x-death'] as unknown as Array<Record<string, unknown>>;
    expect(death).toMatchObject({ reason: 'expired', 'original-expiration': '50' });
    expect(m!.properties.expiration).toBeUndefined();
    await conn.close();
  });

  it('dead-letters rejected messages with the DLX routing key, counting repeats in one x-death entry', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    await ch.assertExchange('retry-dlx', 'direct');
    await ch.assertQueue('retry-work', { exclusive: true, deadLetterExchange: 'retry-dlx', deadLetterRoutingKey: 'again' });
    await ch.assertQueue('retry-again', { exclusive: true, deadLetterExchange: '', deadLetterRoutingKey: 'retry-work' });
    await ch.bindQueue('retry-again', 'retry-dlx', 'again');
    ch.sendToQueue('retry-work', Buffer.from('job'));
    for (let round = 1; round <= 2; round++) {
      const m = (await consumeN(ch, 'retry-work', 1, { noAck: false }))[0]!;
      ch.reject(m, false);
      const bounced = (await consumeN(ch, 'retry-again', 1, { noAck: false }))[0]!;
      const deaths = bounced.properties.headers!['x-death'] as unknown as Array<Record<string, unknown>>;
      expect(deaths[0]).toMatchObject({ queue: 'retry-work', reason: 'rejected', count: round });
      ch.reject(bounced, false);
    }
    await conn.close();
  });

  it('max-length drop-head drops the oldest (dead-lettered as maxlen)', async () => {
    const conn = await broker.connect();
    const ch = await conn.createConfirmChannel();
    const dead = await deadLetterTarget(ch, 'maxlen');
    await ch.assertQueue('maxlen-q', { exclusive: true, maxLength: 2, deadLetterExchange: 'maxlen-dlx' });
    for (let i = 0; i < 5; i++) ch.sendToQueue('maxlen-q', Buffer.from(`m${i}`));
    await ch.waitForConfirms();
    await sleep(50);
    expect((await consumeN(ch, 'maxlen-q', 2)).map(text)).toEqual(['m3', 'm4']);
    const dropped = await consumeN(ch, dead, 3);
    expect(dropped.map(text)).toEqual(['m0', 'm1', 'm2']);
    expect((dropped[0]!.properties.headers!['x-death'] as unknown as Array<Record<string, unknown>>)[0]).toMatchObject({ reason: 'maxlen' });
    await conn.close();
  });

  it('max-length reject-publish nacks the excess; reject-publish-dlx also dead-letters it', async () => {
    const conn = await broker.connect();
    const ch = await conn.createConfirmChannel();
    const dead = await deadLetterTarget(ch, 'reject');
    await ch.assertQueue('reject-q', { exclusive: true, maxLength: 1, arguments: { 'x-overflow': 'reject-publish' } });
    await ch.assertQueue('reject-dlx-q', { exclusive: true, maxLength: 1, deadLetterExchange: 'reject-dlx', arguments: { 'x-overflow': 'reject-publish-dlx' } });
    const outcome = (queue: string, body: string) => new Promise<string>((resolve) => ch.sendToQueue(queue, Buffer.from(body), {}, (err) => resolve(err ? 'nack' : 'ack')));
    expect(await outcome('reject-q', 'first')).toBe('ack');
    expect(await outcome('reject-q', 'second')).toBe('nack');
    expect(await outcome('reject-dlx-q', 'first')).toBe('ack');
    expect(await outcome('reject-dlx-q', 'second')).toBe('nack');
    expect((await consumeN(ch, dead, 1)).map(text)).toEqual(['second']);
    expect((await consumeN(ch, 'reject-q', 1)).map(text)).toEqual(['first']);
    await conn.close();
  });

  it('limits by bytes with x-max-length-bytes', async () => {
    const conn = await broker.connect();
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('bytes-q', { exclusive: true, arguments: { 'x-max-length-bytes': 10 } });
    for (const body of ['aaaa', 'bbbb', 'cccc']) ch.sendToQueue('bytes-q', Buffer.from(body));
    await ch.waitForConfirms();
    await sleep(50);
    expect((await consumeN(ch, 'bytes-q', 2)).map(text)).toEqual(['bbbb', 'cccc']);
    await conn.close();
  });
});
