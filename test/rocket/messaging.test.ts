import { FilterExpression } from 'rocketmq-client-nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILTER_SQL, producerFor, receiveAll, simpleConsumerFor, startRocket, type Producer, type RocketTestBroker } from '../helpers/rocket.ts';

describe('RocketMQ producer and SimpleConsumer (rocketmq-client-nodejs)', () => {
  let broker: RocketTestBroker;
  let producer: Producer;
  beforeAll(async () => {
    broker = await startRocket({ rocket: { topics: { orders: 'FIFO', later: 'DELAY' }, groups: { 'fifo-group': { fifo: true } } } });
    producer = await producerFor(broker);
  });
  afterAll(async () => {
    await producer.shutdown();
    await broker.stop();
  });

  it('sends and receives with tag, keys, properties and body digest; the broker picks queues round-robin', async () => {
    const receipts = [];
    for (let i = 0; i < 8; i++) {
      receipts.push(await producer.send({ topic: 'plain', tag: 'T', keys: [`k${i}`, 'x'], body: Buffer.from(`m${i}`), properties: new Map([['n', String(i)]]) }));
    }
    const consumer = await simpleConsumerFor(broker, 'g-plain', new Map([['plain', '*']]));
    const got = await receiveAll(consumer, 8);
    expect(got.map((m) => m.body.toString()).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    const m3 = got.find((m) => m.body.toString() === 'm3')!;
    expect(m3.messageId).toBe(receipts[3]!.messageId);
    expect(m3.tag).toBe('T');
    expect(m3.keys).toEqual(['k3', 'x']);
    expect(m3.properties.get('n')).toBe('3');
    expect(m3.corrupted).toBeFalsy();
    expect(m3.deliveryAttempt).toBe(1);
    expect(new Set(got.map((m) => (m as unknown as { offset: number }).offset)).size).toBeLessThan(8);
    for (const m of got) await consumer.ack(m);
    expect(await consumer.receive(10, 10_000)).toEqual([]);
    await consumer.shutdown();
  });

  it('redelivers after the invisible duration with the attempt counted, and after ChangeInvisibleDuration', async () => {
    await producer.send({ topic: 'redeliver', body: Buffer.from('again') });
    const consumer = await simpleConsumerFor(broker, 'g-redeliver', new Map([['redeliver', '*']]));
    const [first] = await receiveAll(consumer, 1, 10_000, 1000);
    expect(first!.deliveryAttempt).toBe(1);
    const [second] = await receiveAll(consumer, 1, 10_000, 20_000);
    expect(second!.messageId).toBe(first!.messageId);
    expect(second!.deliveryAttempt).toBe(2);
    await expect(consumer.ack(first!)).rejects.toThrow(/receipt handle/);
    await consumer.changeInvisibleDuration(second!, 1000);
    const [third] = await receiveAll(consumer, 1, 10_000, 20_000);
    expect(third!.deliveryAttempt).toBe(3);
    await consumer.ack(third!);
    await consumer.shutdown();
  });

  it('filters by tag expression on the broker', async () => {
    for (const tag of ['A', 'B', 'C', 'A']) await producer.send({ topic: 'tagged', tag, body: Buffer.from(tag) });
    const consumer = await simpleConsumerFor(broker, 'g-tags', new Map([['tagged', 'A || C']]));
    const got = await receiveAll(consumer, 3);
    expect(got.map((m) => m.tag).sort()).toEqual(['A', 'A', 'C']);
    for (const m of got) await consumer.ack(m);
    expect(await consumer.receive(10, 10_000)).toEqual([]);
    await consumer.shutdown();
  });

  it('filters by SQL92 over properties and refuses a bad expression', async () => {
    const send = (color: string, n: number) => producer.send({ topic: 'props', tag: 'x', body: Buffer.from(`${color}${n}`), properties: new Map([['color', color], ['n', String(n)]]) });
    await send('red', 3);
    await send('red', 9);
    await send('blue', 9);
    const consumer = await simpleConsumerFor(broker, 'g-sql', new Map([['props', new FilterExpression("color = 'red' AND n BETWEEN 5 AND 10 AND TAGS = 'x'", FILTER_SQL)]]));
    const got = await receiveAll(consumer, 1);
    expect(got.map((m) => m.body.toString())).toEqual(['red9']);
    await consumer.ack(got[0]!);
    expect(await consumer.receive(10, 10_000)).toEqual([]);
    await consumer.shutdown();
    const bad = await simpleConsumerFor(broker, 'g-bad-sql', new Map([['props', new FilterExpression('color = ', FILTER_SQL)]]));
    await expect(bad.receive(1, 10_000)).rejects.toThrow(/position/);
    await bad.shutdown();
  });

  it('FIFO: a message group is delivered in order, the next only after the previous is acked', async () => {
    for (let i = 0; i < 5; i++) await producer.send({ topic: 'orders', messageGroup: 'order-1', body: Buffer.from(`step${i}`) });
    const consumer = await simpleConsumerFor(broker, 'fifo-group', new Map([['orders', '*']]));
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const [message] = await receiveAll(consumer, 1);
      expect(await consumer.receive(1, 10_000)).toEqual([]);
      seen.push(message!.body.toString());
      expect(message!.messageGroup).toBe('order-1');
      await consumer.ack(message!);
    }
    expect(seen).toEqual(['step0', 'step1', 'step2', 'step3', 'step4']);
    await consumer.shutdown();
  });

  it('the client refuses a message whose type the route says the topic does not accept', async () => {
    await expect(producer.send({ topic: 'orders', body: Buffer.from('no group') })).rejects.toThrow(/not match/);
    await expect(producer.send({ topic: 'plain', messageGroup: 'g', body: Buffer.from('x') })).rejects.toThrow(/not match/);
  });

  it('delays a message until its delivery time; RecallMessage cancels one', async () => {
    const sentAt = Date.now();
    await producer.send({ topic: 'later', body: Buffer.from('soon'), delay: 1500 });
    const recalled = await producer.send({ topic: 'later', body: Buffer.from('never'), delay: 2000 });
    await producer.recallMessage('later', recalled.recallHandle);
    const consumer = await simpleConsumerFor(broker, 'g-later', new Map([['later', '*']]));
    expect(await consumer.receive(10, 10_000)).toEqual([]);
    const [message] = await receiveAll(consumer, 1);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1400);
    expect(message!.body.toString()).toBe('soon');
    expect(message!.deliveryTimestamp!.getTime()).toBeGreaterThanOrEqual(sentAt + 1500 - 5);
    await consumer.ack(message!);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await consumer.receive(10, 10_000)).toEqual([]);
    await expect(producer.recallMessage('later', recalled.recallHandle)).rejects.toThrow();
    await consumer.shutdown();
  });
});
