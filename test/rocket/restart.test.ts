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

describe('RocketMQ and AMQP share one storage across a restart', () => {
  const dir = tempDir();
  afterEach(() => dir.remove());

  it('keeps each plugin\'s ack state apart', async () => {
    const { createBroker } = await import('../../core/index.ts');
    const { fsStorage } = await import('../../plugins/storage-fs/index.ts');
    const { rabbit } = await import('../../plugins/rabbit/index.ts');
    const { rocket } = await import('../../plugins/rocket/index.ts');
    const amqp = (await import('amqplib')).default;
    const start = async () => {
      const broker = await createBroker({ plugins: [fsStorage(), rabbit(), rocket()], config: { logLevel: 'error', host: '127.0.0.1', dataDir: dir.path, amqp: { port: 'auto' }, rocket: { port: 'auto' }, topics: { flush: 'never' } } });
      await broker.start();
      const port = (protocol: string) => broker.listeners().find((l) => l.protocol === protocol)!.port;
      return { broker, amqpUrl: `amqp://guest:guest@127.0.0.1:${port('amqp')}`, rocketBroker: { broker, port: port('rocketmq'), endpoints: `127.0.0.1:${port('rocketmq')}`, stop: () => broker.stop() } };
    };
    const first = await start();
    const connection = await amqp.connect(first.amqpUrl);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue('jobs', { durable: true });
    for (const body of ['a1', 'a2']) channel.sendToQueue('jobs', Buffer.from(body), { persistent: true });
    await channel.waitForConfirms();
    const got = await channel.get('jobs', { noAck: false });
    channel.ack(got as never);
    await channel.close();
    await connection.close();
    const producer = await producerFor(first.rocketBroker);
    for (const body of ['r1', 'r2']) await producer.send({ topic: 'events', body: Buffer.from(body) });
    const consumer = await simpleConsumerFor(first.rocketBroker, 'g', new Map([['events', '*']]));
    const [r] = await receiveAll(consumer, 1);
    await consumer.ack(r!);
    await consumer.shutdown();
    await producer.shutdown();
    await first.broker.stop();

    const second = await start();
    const again = await amqp.connect(second.amqpUrl);
    const ch = await again.createChannel();
    const left = await ch.get('jobs', { noAck: true });
    expect(left && left.content.toString()).toBe('a2');
    expect(await ch.get('jobs', { noAck: true })).toBe(false);
    await again.close();
    const rocketConsumer = await simpleConsumerFor(second.rocketBroker, 'g', new Map([['events', '*']]));
    const rest = await receiveAll(rocketConsumer, 1);
    expect(rest.map((m) => m.body.toString())).toEqual([r!.body.toString() === 'r1' ? 'r2' : 'r1']);
    expect(await rocketConsumer.receive(10, 10_000)).toEqual([]);
    await rocketConsumer.shutdown();
    await second.broker.stop();
  });
});
