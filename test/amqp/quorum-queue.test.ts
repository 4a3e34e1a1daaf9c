import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rabbit } from '../../plugins/rabbit/index.ts';
import { startAdmin, type AdminTestBroker } from '../helpers/admin.ts';
import { hasProgram } from '../helpers/programs.ts';
import { startRabbitMq, type RabbitMq } from '../helpers/rabbitmq.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** Quorum queues on Wharf where the answer takes longer than a differential case: dead-lettering at least once, restarts, the management API. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quorum = { 'x-queue-type': 'quorum' };
/** At-least-once dead-lettering tries again every second here, not every 3 minutes. */
const SETTLE_FAST = { amqp: { deadLetterWorkerPublisherConfirmTimeoutMs: 1000 } };

async function getOne(ch: amqp.Channel, queue: string, waitMs = 3000): Promise<amqp.GetMessage | false> {
  for (const until = Date.now() + waitMs; ; await sleep(20)) {
    const got = await ch.get(queue, { noAck: false });
    if (got || Date.now() > until) return got;
  }
}

const dir = tempDir();
let admin: AdminTestBroker;
const connect = () => amqp.connect(`amqp://guest:guest@127.0.0.1:${admin.port('amqp')}`);
beforeAll(async () => {
  admin = await startAdmin([rabbit()], SETTLE_FAST, dir.path);
});
afterAll(async () => {
  await admin?.stop();
  dir.remove();
});

describe('quorum queues', () => {
  for (const strategy of ['at-least-once', 'at-most-once'] as const) {
    it(`${strategy}: a message rejected while its dead-letter exchange routes nowhere is ${strategy === 'at-least-once' ? 'kept and dead-lettered once it can be' : 'lost'}`, async () => {
      const connection = await connect();
      const ch = await connection.createChannel();
      const name = `dl-${strategy}`;
      await ch.assertExchange(`${name}-dlx`, 'direct', { durable: true });
      await ch.assertQueue(name, { durable: true, arguments: { ...quorum, 'x-overflow': 'reject-publish', 'x-dead-letter-strategy': strategy, 'x-dead-letter-exchange': `${name}-dlx` } });
      ch.sendToQueue(name, Buffer.from('precious'), { persistent: true });
      ch.reject((await getOne(ch, name)) as amqp.GetMessage, false);
      await sleep(200);
      await ch.assertQueue(`${name}-parked`, { durable: true });
      await ch.bindQueue(`${name}-parked`, `${name}-dlx`, name);
      const parked = await getOne(ch, `${name}-parked`, 3000);
      expect(parked ? parked.content.toString() : 'lost').toBe(strategy === 'at-least-once' ? 'precious' : 'lost');
      expect((await ch.checkQueue(name)).messageCount).toBe(0);
      await connection.close();
    });
  }

  it('keeps its messages and their delivery counts across a restart', async () => {
    let connection = await connect();
    let ch = await connection.createChannel();
    await ch.assertQueue('restarted', { durable: true, arguments: quorum });
    ch.sendToQueue('restarted', Buffer.from('m'), { persistent: true });
    for (let i = 0; i < 2; i++) ch.nack((await getOne(ch, 'restarted')) as amqp.GetMessage, false, true);
    await sleep(100);
    await connection.close();
    await admin.broker.stop();
    admin = await startAdmin([rabbit()], SETTLE_FAST, dir.path);
    connection = await connect();
    ch = await connection.createChannel();
    const again = (await getOne(ch, 'restarted')) as amqp.GetMessage;
    expect([again.content.toString(), again.fields.redelivered, again.properties.headers?.['x-delivery-count']]).toEqual(['m', true, 2]);
    await connection.close();
  }, 30_000);
});

describe('quorum queues in the management API', () => {
  const present = hasProgram('rabbitmq', 'the management API comparison of a quorum queue');
  let reference: RabbitMq | undefined;
  beforeAll(async () => {
    if (present) reference = await startRabbitMq({ management: true });
  }, 120_000);
  afterAll(() => reference?.stop(), 30_000);

  /** The facts of GET /api/queues/%2F/<name> that say what the queue is. */
  const shape = (q: Record<string, unknown>) => ({
    type: q.type,
    durable: q.durable,
    auto_delete: q.auto_delete,
    exclusive: q.exclusive,
    arguments: q.arguments,
    members: Array.isArray(q.members) ? q.members.length : q.members,
    online: Array.isArray(q.online) ? q.online.length : q.online,
    leader: typeof q.leader,
  });
  const expected = { type: 'quorum', durable: true, auto_delete: false, exclusive: false, arguments: { 'x-delivery-limit': 5, 'x-queue-type': 'quorum' }, members: 1, online: 1, leader: 'string' };

  async function declareOn(port: number): Promise<void> {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const ch = await connection.createChannel();
    await ch.assertQueue('managed', { durable: true, arguments: { ...quorum, 'x-delivery-limit': 5 } });
    await connection.close();
  }

  it('Wharf: /api/queues says type quorum, with its leader and members', async () => {
    await declareOn(admin.port('amqp'));
    const answer = await admin.api('GET', '/api/queues/%2F/managed');
    expect(shape(answer.body)).toEqual(expected);
    const listed = (await admin.api('GET', '/api/queues')).body as Array<Record<string, unknown>>;
    expect(listed.find((q) => q.name === 'managed')?.type).toBe('quorum');
  });

  it.skipIf(!present)('RabbitMQ 3.10.8: the same', async () => {
    await declareOn(reference!.port);
    for (const until = Date.now() + 10_000; ; await sleep(200)) {
      const response = await fetch(`http://127.0.0.1:${reference!.managementPort}/api/queues/%2F/managed`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
      const body = (await response.json()) as Record<string, unknown>;
      if (body.members !== undefined || Date.now() > until) return expect(shape(body)).toEqual(expected);
    }
  }, 30_000);
});
