import { afterEach, describe, expect, it } from 'vitest';
import { COMMIT, producerFor, receiveAll, simpleConsumerFor, startRocket } from '../helpers/rocket.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('RocketMQ state survives a broker restart on storage-fs', () => {
  const dir = tempDir();
  afterEach(() => dir.remove());

  it('acked messages stay acked, unacked ones come back with their attempt counted, timers and half messages survive', async () => {
    const rocket = { topics: { durable: 'NORMAL', later: 'DELAY', pay: 'TRANSACTION' }, transactionCheckDelayMs: 60_000, maxLongPollingMs: 1000 };
    const first = await startRocket({ dataDir: dir.path, rocket });
    const producer = await producerFor(first, { topics: ['pay'], checker: { check: async () => 0 } });
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'durable', body: Buffer.from(`m${i}`) });
    const sentAt = Date.now();
    await producer.send({ topic: 'later', body: Buffer.from('delayed'), delay: 2500 });
    await producer.send({ topic: 'pay', body: Buffer.from('half') }, producer.beginTransaction());
    const consumer = await simpleConsumerFor(first, 'g', new Map([['durable', '*']]));
    const taken = await receiveAll(consumer, 6);
    expect(taken).toHaveLength(6);
    for (const m of taken.slice(0, 4)) await consumer.ack(m);
    const acked = taken.slice(0, 4).map((m) => m.body.toString());
    const unacked = taken.slice(4).map((m) => m.body.toString());
    await consumer.shutdown();
    await producer.shutdown();
    await first.stop();

    const second = await startRocket({ dataDir: dir.path, rocket: { ...rocket, transactionCheckDelayMs: 200, transactionCheckIntervalMs: 200 } });
    const checker = await producerFor(second, { topics: ['pay'], checker: { check: async () => COMMIT } });
    const again = await simpleConsumerFor(second, 'g', new Map([['durable', '*']]));
    const rest = await receiveAll(again, 6);
    const bodies = rest.map((m) => m.body.toString());
    expect(bodies.sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'].filter((b) => !acked.includes(b)).sort());
    for (const m of rest) expect(m.deliveryAttempt).toBe(unacked.includes(m.body.toString()) ? 2 : 1);
    for (const m of rest) await again.ack(m);
    expect(await again.receive(10, 10_000)).toEqual([]);

    const later = await simpleConsumerFor(second, 'g-later', new Map([['later', '*']]));
    const [delayed] = await receiveAll(later, 1);
    expect(delayed!.body.toString()).toBe('delayed');
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(2400);
    const pay = await simpleConsumerFor(second, 'g-pay', new Map([['pay', '*']]));
    const [committed] = await receiveAll(pay, 1);
    expect(committed!.body.toString()).toBe('half');
    for (const client of [again, later, pay, checker]) await client.shutdown();
    await second.stop();
  });
});
