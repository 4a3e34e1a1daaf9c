import type { GetMessage } from 'amqplib';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeN, startAmqp, text, type AmqpTestBroker } from '../helpers/amqp.ts';

let broker: AmqpTestBroker;
beforeAll(async () => {
  broker = await startAmqp();
});
afterAll(() => broker.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const require = createRequire(import.meta.url);

describe('AMQP reliability with amqplib', () => {
  it('confirms every publish, coalescing acks with multiple=true', async () => {
    const conn = await broker.connect();
    const ch = await conn.createConfirmChannel();
    const q = await ch.assertQueue('', { exclusive: true });
    const acks: Array<{ tag: number; multiple: boolean }> = [];
    ch.on('ack', (fields: { deliveryTag: number; multiple: boolean }) => acks.push({ tag: fields.deliveryTag, multiple: fields.multiple }));
    let sawMultiple = false;
    for (const size of [5, 10, 20, 40, 80, 160, 320, 640]) {
      for (let i = 0; i < size; i++) ch.sendToQueue(q.queue, Buffer.from(`m${i}`));
      await ch.waitForConfirms();
      sawMultiple ||= acks.some((a) => a.multiple);
    }
    expect(sawMultiple).toBe(true);
    await conn.close();
  });

  it('returns an unroutable mandatory message (312 NO_ROUTE) before confirming it', async () => {
    const conn = await broker.connect();
    const ch = await conn.createConfirmChannel();
    const events: string[] = [];
    ch.on('return', (m: { fields: { replyCode: number; replyText: string }; content: Buffer }) => events.push(`return ${m.fields.replyCode} ${m.fields.replyText} ${text(m)}`));
    await new Promise<void>((resolve, reject) => ch.publish('amq.direct', 'nobody', Buffer.from('lost'), { mandatory: true }, (err) => (err ? reject(err) : (events.push('ack'), resolve()))));
    expect(events).toEqual(['return 312 NO_ROUTE lost', 'ack']);
    await conn.close();
  });

  it('requeues nacked and rejected messages as redelivered, and recovers unacked ones', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(q.queue, Buffer.from('a'));
    ch.sendToQueue(q.queue, Buffer.from('b'));
    await sleep(30);
    const a = (await ch.get(q.queue)) as GetMessage;
    const b = (await ch.get(q.queue)) as GetMessage;
    expect(a.fields.redelivered).toBe(false);
    ch.nack(a, false, true);
    ch.reject(b, true);
    await sleep(30);
    const again = [(await ch.get(q.queue)) as GetMessage, (await ch.get(q.queue)) as GetMessage];
    expect(again.map((m) => [text(m), m.fields.redelivered])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    await ch.recover();
    const recovered = (await ch.get(q.queue)) as GetMessage;
    expect([text(recovered), recovered.fields.redelivered]).toEqual(['a', true]);
    ch.ackAll();
    await conn.close();
  });

  it('returns unacked messages to their queue when the channel closes', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('return-on-close', { exclusive: false, autoDelete: false });
    for (let i = 0; i < 3; i++) ch.sendToQueue(q.queue, Buffer.from(`m${i}`));
    await consumeN(ch, q.queue, 3, { noAck: false });
    await ch.close();
    const other = await conn.createChannel();
    const back = await consumeN(other, q.queue, 3);
    expect(back.map((m) => [text(m), m.fields.redelivered])).toEqual([
      ['m0', true],
      ['m1', true],
      ['m2', true],
    ]);
    await other.deleteQueue(q.queue);
    await conn.close();
  });

  it('acks with multiple, and refuses an unknown delivery tag with 406', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true });
    for (let i = 0; i < 4; i++) ch.sendToQueue(q.queue, Buffer.from(`m${i}`));
    const got = await consumeN(ch, q.queue, 4, { noAck: false });
    ch.ack(got[2]!, true);
    ch.ack(got[3]!);
    const closed = new Promise<{ code: number; message: string }>((resolve) => ch.on('error', resolve));
    ch.ack({ fields: { deliveryTag: 42 } } as never);
    const err = await closed;
    expect(err.code).toBe(406);
    expect(err.message).toMatch(/PRECONDITION_FAILED - unknown delivery tag 42/);
    await conn.close();
  });

  it('tells consumers their queue was deleted (consumer_cancel_notify)', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('doomed');
    const cancelled = new Promise<unknown>((resolve) => void ch.consume(q.queue, (m) => m === null && resolve(m)));
    await sleep(20);
    const admin = await conn.createChannel();
    await admin.deleteQueue('doomed');
    expect(await cancelled).toBeNull();
    await conn.close();
  });

  it('applies transactions: publishes and acks take effect on commit and vanish on rollback', async () => {
    const conn = await broker.connect();
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true });
    const rpc = ch as unknown as { rpc(method: number, fields: object, expect: number): Promise<unknown> };
    const { TxSelect, TxSelectOk, TxCommit, TxCommitOk, TxRollback, TxRollbackOk } = require(path.join(path.dirname(require.resolve('amqplib')), 'lib', 'defs.js')) as Record<string, number>;
    await rpc.rpc(TxSelect!, {}, TxSelectOk!);
    ch.sendToQueue(q.queue, Buffer.from('rolled-back'));
    await rpc.rpc(TxRollback!, {}, TxRollbackOk!);
    ch.sendToQueue(q.queue, Buffer.from('committed'));
    await sleep(30);
    expect((await ch.checkQueue(q.queue)).messageCount).toBe(0);
    await rpc.rpc(TxCommit!, {}, TxCommitOk!);
    expect((await ch.checkQueue(q.queue)).messageCount).toBe(1);
    expect(text((await ch.get(q.queue, { noAck: true })) as GetMessage)).toBe('committed');
    await conn.close();
  });
});
