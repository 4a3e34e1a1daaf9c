import { AMQPClient, type AMQPBaseClient, type AMQPChannel, type AMQPMessage } from '@cloudamqp/amqp-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAmqp, type AmqpTestBroker } from '../helpers/amqp.ts';

let broker: AmqpTestBroker;
let connection: AMQPBaseClient;
beforeAll(async () => {
  broker = await startAmqp();
  connection = await new AMQPClient(broker.url).connect();
});
afterAll(async () => {
  await connection.close();
  await broker.stop();
});

type Death = Record<string, unknown>;
const deaths = (m: AMQPMessage) => m.properties.headers?.['x-death'] as Death[];

/** basic.get until a message comes. */
async function take(ch: AMQPChannel, queue: string, noAck = true): Promise<AMQPMessage> {
  for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
    const m = await ch.basicGet(queue, { noAck });
    if (m) return m;
  }
  throw new Error(`nothing arrived in ${queue}`);
}

describe('@cloudamqp/amqp-client', () => {
  it('receives dead-lettered messages with the dead-letter routing key and without CC, for every reason', async () => {
    const ch = await connection.channel();
    await ch.exchangeDeclare('parking', 'direct', { durable: false });
    await ch.queueDeclare('parked', { durable: false });
    await ch.queueBind('parked', 'parking', 'parked');
    await ch.queueDeclare('copies', { durable: false });
    const dlx = { 'x-dead-letter-exchange': 'parking', 'x-dead-letter-routing-key': 'parked' };
    await ch.queueDeclare('by-ttl', { durable: false }, { ...dlx, 'x-message-ttl': 10 });
    await ch.queueDeclare('by-expiration', { durable: false }, dlx);
    await ch.queueDeclare('by-reject', { durable: false }, dlx);
    await ch.queueDeclare('by-maxlen', { durable: false }, { ...dlx, 'x-max-length': 1 });
    await ch.queueDeclare('by-overflow', { durable: false }, { ...dlx, 'x-max-length': 0, 'x-overflow': 'reject-publish-dlx' });
    const cc = { headers: { CC: ['copies'] } };
    await ch.basicPublish('', 'by-ttl', 'expired', cc);
    await ch.basicPublish('', 'by-expiration', 'expired by its own expiration', { ...cc, expiration: '10' });
    await ch.basicPublish('', 'by-reject', 'rejected', cc);
    await ch.basicPublish('', 'by-maxlen', 'dropped from the head', cc);
    await ch.basicPublish('', 'by-maxlen', 'kept', cc);
    await ch.basicPublish('', 'by-overflow', 'refused', cc);
    await (await take(ch, 'by-reject', false)).reject(false);

    const parked = new Map<string, AMQPMessage>();
    while (parked.size < 5) {
      const m = await take(ch, 'parked');
      parked.set(m.bodyToString()!, m);
    }
    for (const [body, queue, reason] of [
      ['expired', 'by-ttl', 'expired'],
      ['expired by its own expiration', 'by-expiration', 'expired'],
      ['rejected', 'by-reject', 'rejected'],
      ['dropped from the head', 'by-maxlen', 'maxlen'],
      ['refused', 'by-overflow', 'maxlen'],
    ] as const) {
      const m = parked.get(body)!;
      expect([body, m.exchange, m.routingKey, m.properties.headers?.CC]).toEqual([body, 'parking', 'parked', undefined]);
      expect(deaths(m)[0]).toMatchObject({ count: 1, reason, queue, exchange: '', 'routing-keys': [queue, 'copies'] });
    }
    await ch.close();
  });

  it('counts the deaths of a message the client republishes (the retry pattern), keeping the first time', async () => {
    const ch = await connection.channel();
    await ch.queueDeclare('jobs-parked', { durable: false });
    await ch.queueDeclare('jobs', { durable: false }, { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'jobs-parked' });
    await ch.basicPublish('', 'jobs', 'job');
    let firstTime: unknown;
    for (let attempt = 1; attempt <= 3; attempt++) {
      await (await take(ch, 'jobs', false)).nack(false);
      const parked = await take(ch, 'jobs-parked');
      const [death] = deaths(parked);
      firstTime ??= death!.time;
      expect(death).toMatchObject({ count: attempt, reason: 'rejected', queue: 'jobs' });
      expect(death!.time).toEqual(firstTime);
      // The client writes the headers back as it encodes numbers: count as a signed 32-bit int.
      await ch.basicPublish('', 'jobs', parked.body, parked.properties);
    }
    await ch.close();
  });

  it('routes through a headers exchange on equal numbers of other widths: its int binding, an amqplib byte header', async () => {
    const ch = await connection.channel();
    await ch.exchangeDeclare('by-number', 'headers', { durable: false });
    await ch.queueDeclare('number-one', { durable: false });
    await ch.queueBind('number-one', 'by-number', '', { 'x-match': 'all', n: 1 });
    const amqplib = await broker.connect();
    const publisher = await amqplib.createConfirmChannel();
    publisher.publish('by-number', '', Buffer.from('one'), { headers: { n: 1 } });
    publisher.publish('by-number', '', Buffer.from('two'), { headers: { n: 2 } });
    await publisher.waitForConfirms();
    await amqplib.close();
    expect((await take(ch, 'number-one')).bodyToString()).toBe('one');
    expect(await ch.basicGet('number-one')).toBeNull();
    await ch.close();
  });
});
