import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { Offset, type Client } from 'rabbitmq-stream-js-client';
import { kafka } from '../../plugins/kafka/index.ts';
import { startStream, type StreamTestBroker } from '../helpers/stream.ts';
import { eventually } from '../helpers/kafka.ts';

type Message = Parameters<Parameters<Client['declareConsumer']>[1]>[0];

let broker: StreamTestBroker | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close().catch(() => {});
  client = undefined;
  await broker?.stop();
  broker = undefined;
});

async function start(): Promise<Kafka> {
  broker = await startStream({ plugins: [kafka()], config: { kafka: { port: 'auto' }, groups: { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 1000 } } });
  client = await broker.connect();
  const port = broker.broker.listeners().find((l) => l.protocol === 'kafka')!.port;
  return new Kafka({ clientId: 'cross', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
}

describe('one log, two protocols: Kafka and RabbitMQ streams', () => {
  it('a Kafka topic of one partition reads as a stream: value = body, headers = application properties, offsets equal', async () => {
    const cluster = await start();
    const admin = cluster.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'from-kafka', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = cluster.producer();
    await producer.connect();
    await producer.send({ topic: 'from-kafka', messages: [{ key: 'k1', value: 'first', headers: { source: 'kafka', trace: 'abc' } }, { value: 'second' }] });
    await producer.send({ topic: 'from-kafka', compression: 1, messages: [{ value: 'third (gzip)', headers: { source: 'kafka' } }] });
    await producer.disconnect();

    const got: Message[] = [];
    await client!.declareConsumer({ stream: 'from-kafka', offset: Offset.first() }, (m) => void got.push(m));
    await eventually(() => got.length === 3, 10_000, 'three messages');
    expect(got.map((m) => [m.offset, m.content.toString()])).toEqual([[0n, 'first'], [1n, 'second'], [2n, 'third (gzip)']]);
    expect(got[0]!.applicationProperties).toEqual({ source: 'kafka', trace: 'abc' });
    expect(got[1]!.applicationProperties).toEqual({});
  });

  it('a stream reads as a Kafka topic: body = value, string application properties = headers', async () => {
    const cluster = await start();
    await client!.createStream({ stream: 'from-stream', arguments: {} });
    const publisher = await client!.declarePublisher({ stream: 'from-stream' });
    await publisher.send(Buffer.from('hello kafka'), { applicationProperties: { region: 'eu', count: 3 }, messageProperties: { contentType: 'text/plain' } });
    await publisher.send(Buffer.from('second'));
    await publisher.flush();

    const consumer = cluster.consumer({ groupId: 'cross-readers' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'from-stream', fromBeginning: true });
    const got: Array<{ offset: string; message: KafkaMessage }> = [];
    await consumer.run({ eachMessage: async ({ message }) => void got.push({ offset: message.offset, message }) });
    await eventually(() => got.length === 2, 20_000, 'two Kafka messages');
    await consumer.disconnect();
    expect(got.map((g) => [g.offset, g.message.value!.toString()])).toEqual([['0', 'hello kafka'], ['1', 'second']]);
    const headers = got[0]!.message.headers!;
    expect(headers.region!.toString()).toBe('eu');
    // typed application properties and the properties section stay AMQP 1.0 bytes under reserved names
    expect(Object.keys(headers).sort()).toEqual(['region', 'x-amqp-application-properties', 'x-amqp-properties']);
  });

  it('a Kafka consumer group resumes where a stream consumer stored its offset (same name)', async () => {
    const cluster = await start();
    await client!.createStream({ stream: 'handover', arguments: {} });
    const publisher = await client!.declarePublisher({ stream: 'handover' });
    for (let i = 0; i < 6; i++) await publisher.send(Buffer.from(`m${i}`));
    await publisher.flush();
    const seen: Message[] = [];
    const streamConsumer = await client!.declareConsumer({ stream: 'handover', offset: Offset.first(), consumerRef: 'handover-group' }, (m) => void seen.push(m));
    await eventually(() => seen.length === 6, 10_000, 'six messages');
    await streamConsumer.storeOffset(3n);
    await eventually(async () => (await client!.queryOffset({ reference: 'handover-group', stream: 'handover' }).catch(() => -1n)) === 3n, 10_000, 'stored offset');

    const consumer = cluster.consumer({ groupId: 'handover-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'handover' });
    const got: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
    await eventually(() => got.length === 2, 20_000, 'the two messages after the stored offset');
    await consumer.disconnect();
    expect(got).toEqual(['m4', 'm5']);
  });
});
