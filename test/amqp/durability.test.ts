import { afterEach, describe, expect, it } from 'vitest';
import { consumeN, startAmqp, text, type AmqpTestBroker } from '../helpers/amqp.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('AMQP durability across a broker restart on storage-fs', () => {
  it('keeps durable exchanges, queues, bindings and persistent messages with their ack state; drops transient ones', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    let broker: AmqpTestBroker = await startAmqp({ dataDir: dir.path, topics: { flush: 'always' } });
    const port = broker.port;
    let conn = await broker.connect();
    let ch = await conn.createConfirmChannel();
    await ch.assertExchange('orders', 'topic', { durable: true });
    await ch.assertExchange('scratch', 'fanout', { durable: false });
    await ch.assertQueue('durable-q', { durable: true, arguments: { 'x-max-length': 1000 } });
    await ch.assertQueue('transient-q', { durable: false });
    await ch.bindQueue('durable-q', 'orders', 'order.*');
    for (let i = 0; i < 6; i++) ch.publish('orders', 'order.created', Buffer.from(`persistent-${i}`), { persistent: true });
    ch.publish('orders', 'order.created', Buffer.from('transient-message'), { persistent: false });
    ch.sendToQueue('transient-q', Buffer.from('gone'), { persistent: true });
    await ch.waitForConfirms();
    await ch.prefetch(3);
    const first = await consumeN(ch, 'durable-q', 3, { noAck: false });
    for (const m of first.slice(0, 2)) ch.ack(m);
    await new Promise((r) => setTimeout(r, 300));
    await conn.close();
    await broker.stop();

    broker = await startAmqp({ dataDir: dir.path, port, topics: { flush: 'always' } });
    cleanups.push(() => broker.stop());
    conn = await broker.connect();
    ch = await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    await ch.checkExchange('orders');
    expect((await ch.checkQueue('durable-q')).messageCount).toBe(4);
    const rest = await consumeN(ch, 'durable-q', 4);
    expect(rest.map((m) => [text(m), m.fields.redelivered])).toEqual([
      ['persistent-2', true],
      ['persistent-3', false],
      ['persistent-4', false],
      ['persistent-5', false],
    ]);
    ch.publish('orders', 'order.shipped', Buffer.from('routed-after-restart'), { persistent: true });
    await ch.waitForConfirms();
    expect((await consumeN(ch, 'durable-q', 1)).map(text)).toEqual(['routed-after-restart']);
    await expect(ch.checkQueue('transient-q')).rejects.toThrow(/NOT_FOUND/);
    await conn.close().catch(() => undefined);
  });
});
