import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeN, startAmqp, text, type AmqpTestBroker } from '../helpers/amqp.ts';

let broker: AmqpTestBroker;
beforeAll(async () => {
  broker = await startAmqp();
});
afterAll(() => broker.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('AMQP messaging patterns with amqplib', () => {
  it('work queue: competing consumers share the work under their prefetch', async () => {
    const conn = await broker.connect();
    const producer = await conn.createChannel();
    await producer.assertQueue('work', { durable: true });
    const workers = await Promise.all([conn.createChannel(), conn.createChannel()]);
    const seen: Array<Array<string>> = [[], []];
    const unacked = [0, 0];
    let maxUnacked = 0;
    for (const [i, ch] of workers.entries()) {
      await ch.prefetch(3);
      await ch.consume('work', (m) => {
        unacked[i]!++;
        maxUnacked = Math.max(maxUnacked, unacked[i]!);
        seen[i]!.push(text(m!));
        setTimeout(() => {
          unacked[i]!--;
          ch.ack(m!);
        }, 5);
      });
    }
    for (let i = 0; i < 40; i++) producer.sendToQueue('work', Buffer.from(`job-${i}`), { persistent: true });
    while (seen[0]!.length + seen[1]!.length < 40) await sleep(10);
    expect(seen[0]!.length).toBeGreaterThan(5);
    expect(seen[1]!.length).toBeGreaterThan(5);
    expect([...seen[0]!, ...seen[1]!].sort()).toEqual(Array.from({ length: 40 }, (_, i) => `job-${i}`).sort());
    expect(maxUnacked).toBeLessThanOrEqual(3);
    while (unacked.some((n) => n > 0)) await sleep(10);
    await conn.close();
  });

  it('publish/subscribe through a fanout exchange reaches every bound queue', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    await ch.assertExchange('logs', 'fanout', { durable: false });
    const a = await ch.assertQueue('', { exclusive: true });
    const b = await ch.assertQueue('', { exclusive: true });
    expect(a.queue).toMatch(/^amq\.gen-[A-Za-z0-9_-]{22}$/);
    await ch.bindQueue(a.queue, 'logs', '');
    await ch.bindQueue(b.queue, 'logs', 'ignored');
    ch.publish('logs', 'any', Buffer.from('broadcast'));
    expect((await consumeN(ch, a.queue, 1)).map(text)).toEqual(['broadcast']);
    expect((await consumeN(ch, b.queue, 1)).map(text)).toEqual(['broadcast']);
    await conn.close();
  });

  it('routes by exact key (direct) and by pattern (topic)', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    await ch.assertExchange('direct-logs', 'direct');
    const errors = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(errors.queue, 'direct-logs', 'error');
    ch.publish('direct-logs', 'info', Buffer.from('i'));
    ch.publish('direct-logs', 'error', Buffer.from('e'));
    expect((await consumeN(ch, errors.queue, 1)).map(text)).toEqual(['e']);

    await ch.assertExchange('topic-logs', 'topic');
    const kern = await ch.assertQueue('', { exclusive: true });
    const crit = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(kern.queue, 'topic-logs', 'kern.*');
    await ch.bindQueue(crit.queue, 'topic-logs', '#.critical');
    for (const key of ['kern.critical', 'kern.info', 'app.critical', 'kern.info.x', 'other']) ch.publish('topic-logs', key, Buffer.from(key));
    expect((await consumeN(ch, kern.queue, 2)).map(text)).toEqual(['kern.critical', 'kern.info']);
    expect((await consumeN(ch, crit.queue, 2)).map(text)).toEqual(['kern.critical', 'app.critical']);
    await conn.close();
  });

  it('routes by headers with x-match all and any', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    await ch.assertExchange('hdr', 'headers');
    const all = await ch.assertQueue('', { exclusive: true });
    const any = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(all.queue, 'hdr', '', { 'x-match': 'all', format: 'pdf', type: 'report' });
    await ch.bindQueue(any.queue, 'hdr', '', { 'x-match': 'any', format: 'pdf', type: 'log' });
    ch.publish('hdr', '', Buffer.from('pdf-report'), { headers: { format: 'pdf', type: 'report' } });
    ch.publish('hdr', '', Buffer.from('zip-log'), { headers: { format: 'zip', type: 'log' } });
    ch.publish('hdr', '', Buffer.from('none'), { headers: { format: 'zip', type: 'report' } });
    expect((await consumeN(ch, all.queue, 1)).map(text)).toEqual(['pdf-report']);
    expect((await consumeN(ch, any.queue, 2)).map(text)).toEqual(['pdf-report', 'zip-log']);
    await conn.close();
  });

  it('follows exchange-to-exchange bindings, alternate exchanges and CC/BCC sender-selected routing', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    await ch.assertExchange('upstream', 'topic');
    await ch.assertExchange('downstream', 'direct', { internal: true });
    await ch.bindExchange('downstream', 'upstream', 'a.#');
    const q = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q.queue, 'downstream', 'a.b');
    ch.publish('upstream', 'a.b', Buffer.from('via-e2e'));
    expect((await consumeN(ch, q.queue, 1)).map(text)).toEqual(['via-e2e']);

    await ch.assertExchange('unrouted', 'fanout');
    await ch.assertExchange('with-ae', 'direct', { alternateExchange: 'unrouted' });
    const lost = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(lost.queue, 'unrouted', '');
    ch.publish('with-ae', 'nobody', Buffer.from('to-ae'));
    expect((await consumeN(ch, lost.queue, 1)).map(text)).toEqual(['to-ae']);

    const main = await ch.assertQueue('cc-main', { exclusive: true });
    const cc = await ch.assertQueue('cc-copy', { exclusive: true });
    const bcc = await ch.assertQueue('cc-blind', { exclusive: true });
    ch.publish('', main.queue, Buffer.from('memo'), { CC: ['cc-copy'], BCC: ['cc-blind'] });
    const [toCc] = await consumeN(ch, cc.queue, 1);
    const [toBcc] = await consumeN(ch, bcc.queue, 1);
    await consumeN(ch, main.queue, 1);
    expect(toCc!.properties.headers!.CC).toEqual(['cc-copy']);
    expect(toBcc!.properties.headers!.BCC).toBeUndefined();
    await conn.close();
  });

  it('carries bodies split over several frames both ways, and empty bodies, byte for byte', async () => {
    const conn = await broker.connect();
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('sizes', { exclusive: true });
    // frame_max is 131072: 300 kB travels as three body frames each way; 1 kB and 0 B as one and none.
    const bodies = [Buffer.alloc(300_000), Buffer.alloc(1024), Buffer.alloc(0), Buffer.alloc(131_064)].map((b, n) => {
      for (let i = 0; i < b.length; i++) b[i] = (i * 7 + n) & 0xff;
      return b;
    });
    for (const body of bodies) ch.sendToQueue('sizes', body, { persistent: true, headers: { size: body.length } });
    await ch.waitForConfirms();
    const delivered = await consumeN(ch, 'sizes', bodies.length);
    expect(delivered.map((m) => m.content.length)).toEqual(bodies.map((b) => b.length));
    for (const [i, body] of bodies.entries()) expect(delivered[i]!.content.equals(body)).toBe(true);
    expect(delivered.map((m) => m.properties.headers?.size)).toEqual(bodies.map((b) => b.length));
    ch.sendToQueue('sizes', bodies[0]!);
    await ch.waitForConfirms();
    const got = await ch.get('sizes', { noAck: true });
    expect(got && got.content.equals(bodies[0]!)).toBe(true);
    await conn.close();
  });

  it('basic.get returns messages with the remaining count, then get-empty', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(q.queue, Buffer.from('one'));
    ch.sendToQueue(q.queue, Buffer.from('two'));
    await sleep(50);
    const first = await ch.get(q.queue, { noAck: false });
    expect(first && [text(first), first.fields.messageCount]).toEqual(['one', 1]);
    ch.ack(first as never);
    const second = await ch.get(q.queue, { noAck: true });
    expect(second && text(second)).toBe('two');
    expect(await ch.get(q.queue)).toBe(false);
    await conn.close();
  });

  it('delivers higher priorities first, FIFO within a priority, capping at x-max-priority', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true, maxPriority: 5 });
    for (const [body, priority] of [['p0', 0], ['p9', 9], ['p3', 3], ['none', undefined], ['p5', 5], ['p3b', 3]] as const) {
      ch.sendToQueue(q.queue, Buffer.from(body), priority === undefined ? {} : { priority });
    }
    await sleep(50);
    expect((await consumeN(ch, q.queue, 6)).map(text)).toEqual(['p9', 'p5', 'p3', 'p3b', 'p0', 'none']);
    await conn.close();
  });

  it('single active consumer: the second consumer waits until the first cancels', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true, arguments: { 'x-single-active-consumer': true } });
    const firstSeen: string[] = [];
    const secondSeen: string[] = [];
    const first = await ch.consume(q.queue, (m) => firstSeen.push(text(m!)), { noAck: true });
    await ch.consume(q.queue, (m) => secondSeen.push(text(m!)), { noAck: true });
    for (let i = 0; i < 5; i++) ch.sendToQueue(q.queue, Buffer.from(`m${i}`));
    while (firstSeen.length < 5) await sleep(10);
    await ch.cancel(first.consumerTag);
    ch.sendToQueue(q.queue, Buffer.from('after'));
    while (secondSeen.length < 1) await sleep(10);
    expect([firstSeen.length, secondSeen]).toEqual([5, ['after']]);
    await conn.close();
  });
});
