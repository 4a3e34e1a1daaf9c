import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAmqp, type AmqpTestBroker } from '../helpers/amqp.ts';
import { tempDir } from '../helpers/temp-dir.ts';

let broker: AmqpTestBroker;
beforeAll(async () => {
  broker = await startAmqp();
});
afterAll(() => broker.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function exists(queue: string): Promise<boolean> {
  const conn = await broker.connect();
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  try {
    await ch.checkQueue(queue);
    return true;
  } catch {
    return false;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

describe('queue and exchange lifecycles', () => {
  it('deletes an exclusive queue when its connection closes', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    await ch.assertQueue('mine-only', { exclusive: true });
    expect(await exists('mine-only')).toBe(false);
    await conn.close();
    await sleep(50);
    const after = await broker.connect();
    const c2 = await after.createChannel();
    await c2.assertQueue('mine-only', { exclusive: true });
    await after.close();
  });

  it('deletes an auto-delete queue when its last consumer cancels, not before it ever had one', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    await ch.assertQueue('auto', { autoDelete: true });
    expect(await exists('auto')).toBe(true);
    const a = await ch.consume('auto', () => undefined);
    const b = await ch.consume('auto', () => undefined);
    await ch.cancel(a.consumerTag);
    expect(await exists('auto')).toBe(true);
    await ch.cancel(b.consumerTag);
    await sleep(50);
    expect(await exists('auto')).toBe(false);
    await conn.close();
  });

  it('deletes a queue unused for x-expires, and an auto-delete exchange when its last binding goes', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    await ch.assertQueue('expiring', { expires: 600 });
    await sleep(300);
    await ch.checkQueue('expiring');
    await sleep(400);
    expect(await exists('expiring')).toBe(true);
    await sleep(900);
    expect(await exists('expiring')).toBe(false);

    await ch.assertExchange('temporary', 'fanout', { autoDelete: true });
    const q = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q.queue, 'temporary', '');
    await ch.unbindQueue(q.queue, 'temporary', '');
    ch.on('error', () => undefined);
    await expect(ch.checkExchange('temporary')).rejects.toThrow(/NOT_FOUND/);
    await conn.close().catch(() => undefined);
  });

  it('reports message and consumer counts in declare-ok, and uses the last declared queue for ""', async () => {
    const conn = await broker.connect();
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('counted', { exclusive: true });
    for (let i = 0; i < 3; i++) ch.sendToQueue('counted', Buffer.from('x'));
    await ch.waitForConfirms();
    await ch.consume('', () => undefined, { noAck: false, consumerTag: 'c1' }).catch(() => undefined);
    await sleep(50);
    const ok = await ch.checkQueue('counted');
    expect(ok.consumerCount).toBe(1);
    expect(ok.messageCount).toBe(0);
    expect(await ch.purgeQueue('counted')).toEqual({ messageCount: 0 });
    await conn.close();
  });
});

describe('queue lifecycles whose work waits on storage-fs', () => {
  it('creates a fresh queue when one of its name is declared while the old one\'s logs are still being deleted', async () => {
    const dir = tempDir();
    const fsBroker = await startAmqp({ dataDir: dir.path });
    try {
      for (let round = 0; round < 5; round++) {
        const owner = await fsBroker.connect();
        const first = await owner.createConfirmChannel();
        await first.assertQueue('reused', { exclusive: true });
        for (let i = 0; i < 200; i++) first.sendToQueue('reused', Buffer.from(`old ${i}`));
        await first.waitForConfirms();
        const next = await fsBroker.connect();
        const second = await next.createConfirmChannel();
        await owner.close(); // its exclusive queue's logs are deleted from now on
        expect((await second.assertQueue('reused', { exclusive: true })).messageCount).toBe(0);
        second.sendToQueue('reused', Buffer.from('new'));
        await second.waitForConfirms();
        expect((await second.get('reused', { noAck: true }) || undefined)?.content.toString()).toBe('new');
        expect((await second.checkQueue('reused')).messageCount).toBe(0);
        await next.close();
      }
    } finally {
      await fsBroker.stop();
      dir.remove();
    }
  });
});

it('keeps a queue whose x-expires is longer than a Node timer can wait', async () => {
  const conn = await broker.connect();
  const ch = await conn.createChannel();
  await ch.assertQueue('thirty-days', { expires: 30 * 24 * 3600 * 1000 });
  await sleep(100);
  expect(await exists('thirty-days')).toBe(true);
  await ch.deleteQueue('thirty-days');
  await conn.close();
});
