import { ConsumeResult } from 'rocketmq-client-nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMIT, producerFor, pushConsumerFor, receiveAll, ROLLBACK, simpleConsumerFor, startRocket, type MessageView, type RocketTestBroker } from '../helpers/rocket.ts';

const until = async (condition: () => boolean, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('RocketMQ transactions and PushConsumer (rocketmq-client-nodejs)', () => {
  let broker: RocketTestBroker;
  beforeAll(async () => {
    broker = await startRocket({
      rocket: {
        topics: { payments: 'TRANSACTION', 'orphan-payments': 'TRANSACTION', 'undecided-payments': 'TRANSACTION' },
        maxLongPollingMs: 1000,
        groups: { 'push-retry': { retry: { maxAttempts: 3, backoffMs: { initialMs: 300, maxMs: 600, multiplier: 2 } } } },
        transactionCheckDelayMs: 300,
        transactionCheckIntervalMs: 300,
        transactionCheckMax: 3,
      },
    });
  });
  afterAll(() => broker.stop());

  it('a committed half message becomes visible; a rolled-back one never does', async () => {
    const producer = await producerFor(broker, { topics: ['payments'], checker: { check: async () => 0 } });
    const committed = producer.beginTransaction();
    await producer.send({ topic: 'payments', body: Buffer.from('commit-me') }, committed);
    const rolledBack = producer.beginTransaction();
    await producer.send({ topic: 'payments', body: Buffer.from('roll-me-back') }, rolledBack);
    const consumer = await simpleConsumerFor(broker, 'g-payments', new Map([['payments', '*']]));
    expect(await consumer.receive(10, 10_000)).toEqual([]);
    await committed.commit();
    await rolledBack.rollback();
    const got = await receiveAll(consumer, 1);
    expect(got.map((m) => m.body.toString())).toEqual(['commit-me']);
    await consumer.ack(got[0]!);
    expect(await consumer.receive(10, 10_000)).toEqual([]);
    await consumer.shutdown();
    await producer.shutdown();
  });

  it('an unresolved transaction is checked back over telemetry and resolved by the checker', async () => {
    const checked: string[] = [];
    const producer = await producerFor(broker, {
      topics: ['orphan-payments'],
      checker: {
        check: async (message: MessageView) => {
          checked.push(message.body.toString());
          return message.body.toString() === 'orphan-commit' ? COMMIT : ROLLBACK;
        },
      },
    });
    for (const body of ['orphan-commit', 'orphan-rollback']) await producer.send({ topic: 'orphan-payments', body: Buffer.from(body) }, producer.beginTransaction());
    const consumer = await simpleConsumerFor(broker, 'g-orphans', new Map([['orphan-payments', '*']]));
    const got = await receiveAll(consumer, 1);
    expect(got.map((m) => m.body.toString())).toEqual(['orphan-commit']);
    expect(checked.sort()).toEqual(['orphan-commit', 'orphan-rollback']);
    await consumer.ack(got[0]!);
    await consumer.shutdown();
    await producer.shutdown();
  });

  it('an unresolved transaction whose checks never resolve is discarded after the last check', async () => {
    let checks = 0;
    const producer = await producerFor(broker, { topics: ['undecided-payments'], checker: { check: async () => (checks++, 0) } });
    await producer.send({ topic: 'undecided-payments', body: Buffer.from('undecided') }, producer.beginTransaction());
    await until(() => checks >= 3);
    await new Promise((r) => setTimeout(r, 800));
    expect(checks).toBe(3);
    await producer.shutdown();
  });

  it('PushConsumer: success acks; failure retries with the group back-off, then goes to %DLQ%<group>', async () => {
    const producer = await producerFor(broker);
    const attempts: Array<{ body: string; attempt: number; at: number }> = [];
    const consumer = await pushConsumerFor(broker, 'push-retry', new Map([['jobs', '*']]), async (message) => {
      attempts.push({ body: message.body.toString(), attempt: message.deliveryAttempt ?? 0, at: Date.now() });
      return message.body.toString() === 'ok' ? ConsumeResult.SUCCESS : ConsumeResult.FAILURE;
    });
    await producer.send({ topic: 'jobs', body: Buffer.from('ok') });
    await producer.send({ topic: 'jobs', body: Buffer.from('poison') });
    await until(() => attempts.filter((a) => a.body === 'poison').length >= 3, 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    const poison = attempts.filter((a) => a.body === 'poison');
    expect(attempts.filter((a) => a.body === 'ok').map((a) => a.attempt)).toEqual([1]);
    expect(poison.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(poison[1]!.at - poison[0]!.at).toBeGreaterThanOrEqual(280);
    expect(poison[2]!.at - poison[1]!.at).toBeGreaterThanOrEqual(580);
    await consumer.shutdown();
    const dlq = await simpleConsumerFor(broker, 'dlq-reader', new Map([['%DLQ%push-retry', '*']]));
    const dead = await receiveAll(dlq, 1);
    expect(dead.map((m) => m.body.toString())).toEqual(['poison']);
    expect(dead[0]!.properties.get('DLQ_ORIGIN_TOPIC')).toBeUndefined();
    await dlq.ack(dead[0]!);
    await dlq.shutdown();
    await producer.shutdown();
  });
});

describe('RocketMQ PushConsumer invisibility (rocketmq-client-nodejs)', () => {
  it('keeps a slow push consumer\'s message invisible by renewing it while the client lives', async () => {
    const broker = await startRocket({ rocket: { pushInvisibleMs: 1000, maxLongPollingMs: 1000 } });
    const producer = await producerFor(broker);
    const attempts: number[] = [];
    const consumer = await pushConsumerFor(broker, 'slow', new Map([['slow-jobs', '*']]), async (message) => {
      attempts.push(message.deliveryAttempt ?? 0);
      await new Promise((r) => setTimeout(r, 3000));
      return ConsumeResult.SUCCESS;
    });
    await producer.send({ topic: 'slow-jobs', body: Buffer.from('takes a while') });
    await until(() => attempts.length > 0);
    await new Promise((r) => setTimeout(r, 4000));
    expect(attempts).toEqual([1]);
    await consumer.shutdown();
    await producer.shutdown();
    await broker.stop();
  }, 30_000);
});

