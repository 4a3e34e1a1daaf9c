import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.ts';
import { Producer, quietLogger, receiveAll, SimpleConsumer } from '../helpers/rocket.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { wharfJson, wharfOk } from './wharf-cli.ts';

describe('wharf topics/groups --protocol rocketmq against a broker process, with the official RocketMQ client', () => {
  const dir = tempDir();
  let broker: BrokerProcess;
  let endpoints: string;
  beforeAll(async () => {
    broker = await startBrokerProcess(dir.path, ['--rocket-auto-create-topics', 'false']);
    endpoints = `127.0.0.1:${broker.ports.rocketmq}`;
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
    dir.remove();
  });

  it('creates a FIFO topic and a FIFO group; the client sends message groups to it and consumes each in order', async () => {
    const http = broker.ports.http!;
    expect(await wharfOk(http, ['topics', 'create', 'orders', '--protocol', 'rocketmq', '--type', 'FIFO', '--queues', '2'])).toBe('Created RocketMQ topic orders (FIFO).\n');
    expect(await wharfOk(http, ['groups', 'create', 'order-app', '--protocol', 'rocketmq', '--fifo'])).toMatch(/^Created RocketMQ group order-app \(FIFO delivery\)/);
    expect(await wharfOk(http, ['topics', 'list', '--protocol', 'rocketmq'])).toMatch(/^orders +FIFO +2 +READ_WRITE +0 +0 B$/m);

    const producer = new Producer({ endpoints, namespace: '', logger: quietLogger } as never);
    await producer.startup();
    // The route the broker gives the client carries the type the CLI set: a NORMAL message is refused.
    await expect(producer.send({ topic: 'orders', body: Buffer.from('no group') })).rejects.toThrow(/not match/);
    for (let i = 0; i < 4; i++) {
      await producer.send({ topic: 'orders', messageGroup: 'order-1', body: Buffer.from(`a${i}`) });
      await producer.send({ topic: 'orders', messageGroup: 'order-2', body: Buffer.from(`b${i}`) });
    }
    await producer.shutdown();

    const consumer = new SimpleConsumer({ endpoints, namespace: '', logger: quietLogger, consumerGroup: 'order-app', subscriptions: new Map([['orders', '*']]), awaitDuration: 500 } as never);
    await consumer.startup();
    const seen: Record<string, string[]> = { 'order-1': [], 'order-2': [] };
    for (let round = 0; round < 4; round++) {
      // A FIFO group gets each message group's head only: one message per group until it is acked.
      const heads = await receiveAll(consumer, 2);
      expect(heads.map((m) => m.messageGroup).sort()).toEqual(['order-1', 'order-2']);
      expect(await consumer.receive(2, 10_000)).toEqual([]);
      for (const m of heads) {
        seen[m.messageGroup!]!.push(m.body.toString());
        await consumer.ack(m);
      }
    }
    expect(seen).toEqual({ 'order-1': ['a0', 'a1', 'a2', 'a3'], 'order-2': ['b0', 'b1', 'b2', 'b3'] });

    const topic = await wharfJson<{ message_type: string; messages: number; groups: string[] }>(http, ['topics', 'describe', 'orders', '--protocol', 'rocketmq']);
    expect(topic).toMatchObject({ message_type: 'FIFO', messages: 8, groups: ['order-app'] });
    const group = await wharfJson<{ fifo: boolean; lag: number; inflight: number; members: unknown[] }>(http, ['groups', 'describe', 'order-app', '--protocol', 'rocketmq']);
    expect(group).toMatchObject({ fifo: true, lag: 0, inflight: 0 });
    expect(group.members).toHaveLength(1);
    const text = await wharfOk(http, ['groups', 'describe', 'order-app', '--protocol', 'rocketmq']);
    expect(text).toMatch(/^Delivery: +FIFO$/m);
    expect(text).toMatch(/^TOPIC +QUEUE +ACK-FLOOR +MAX-OFFSET +LAG +INFLIGHT$/m);
    expect(text).toMatch(/^orders +1 +8 +8 +0 +0$/m); // both message groups hash to queue 1 of 2
    await consumer.shutdown();
  }, 90_000);
});
