import amqp, { type ConsumeMessage } from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { Offset, type Client } from 'rabbitmq-stream-js-client';
import { afterEach, describe, expect, it } from 'vitest';
import { kafka } from '../../plugins/kafka/index.ts';
import { rabbit } from '../../plugins/rabbit/index.ts';
import { eventually } from '../helpers/kafka.ts';
import { startStream, type StreamTestBroker } from '../helpers/stream.ts';

type StreamMessage = Parameters<Parameters<Client['declareConsumer']>[1]>[0];

let broker: StreamTestBroker | undefined;
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  await broker?.stop();
  broker = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a stream written by Kafka transactions', () => {
  it('AMQP stream consumers and stream-protocol subscribers get committed records only: never an aborted transaction or a marker, an open one once it commits', async () => {
    broker = await startStream({
      plugins: [kafka(), rabbit()],
      config: { kafka: { port: 'auto' }, amqp: { port: 'auto' }, groups: { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 1000 } },
    });
    const portOf = (protocol: string) => broker!.broker.listeners().find((l) => l.protocol === protocol)!.port;
    const connection = await amqp.connect({ protocol: 'amqp', hostname: '127.0.0.1', port: portOf('amqp'), username: 'guest', password: 'guest' });
    closers.push(() => connection.close());
    const ch = await connection.createChannel();
    await ch.assertQueue('txn-stream', { durable: true, arguments: { 'x-queue-type': 'stream' } });

    const cluster = new Kafka({ clientId: 'txn-stream', brokers: [`127.0.0.1:${portOf('kafka')}`], logLevel: logLevel.NOTHING });
    const producer = cluster.producer({ transactionalId: 'txn-stream-producer', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    closers.push(() => producer.disconnect());
    const committed = await producer.transaction();
    await committed.send({ topic: 'txn-stream', messages: [{ value: 'committed-1' }, { value: 'committed-2' }] });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic: 'txn-stream', messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
    await aborted.abort();
    const open = await producer.transaction();
    await open.send({ topic: 'txn-stream', messages: [{ value: 'pending-1' }] });

    const amqpGot: ConsumeMessage[] = [];
    await ch.prefetch(100);
    await ch.consume('txn-stream', (m) => m && (amqpGot.push(m), ch.ack(m)), { noAck: false, arguments: { 'x-stream-offset': 'first' } });
    const client = await broker.connect();
    closers.push(() => client.close());
    const streamGot: StreamMessage[] = [];
    await client.declareConsumer({ stream: 'txn-stream', offset: Offset.first() }, (m) => void streamGot.push(m));

    const amqpSeen = () => amqpGot.map((m) => `${m.content.toString()}@${String(m.properties.headers?.['x-stream-offset'])}`);
    const streamSeen = () => streamGot.map((m) => `${m.content.toString()}@${m.offset}`);
    // committed-1@0 committed-2@1 marker@2 aborted-1@3 aborted-2@4 marker@5 pending-1@6 (open)
    await eventually(() => amqpGot.length >= 2 && streamGot.length >= 2, 10_000, 'the committed records');
    await sleep(500); // anything more that would come
    expect(amqpSeen()).toEqual(['committed-1@0', 'committed-2@1']);
    expect(streamSeen()).toEqual(['committed-1@0', 'committed-2@1']);

    await open.commit();
    await eventually(() => amqpGot.length >= 3 && streamGot.length >= 3, 10_000, 'the transaction committed last');
    await sleep(500);
    expect(amqpSeen()).toEqual(['committed-1@0', 'committed-2@1', 'pending-1@6']);
    expect(streamSeen()).toEqual(['committed-1@0', 'committed-2@1', 'pending-1@6']);
  });
});
