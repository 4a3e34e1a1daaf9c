import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { gunzipSync } from 'node:zlib';
import { Offset, type Client, type Publisher } from 'rabbitmq-stream-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafka } from '../../plugins/kafka/index.ts';
import { rabbit } from '../../plugins/rabbit/index.ts';
import { eventually } from '../helpers/kafka.ts';
import { hasProgram } from '../helpers/programs.ts';
import { startRabbitMq, type RabbitMq } from '../helpers/rabbitmq.ts';
import { startStream, type StreamTestBroker } from '../helpers/stream.ts';
import { int32, open, request, str, StreamWire } from '../helpers/stream-wire.ts';
import { publishFrame, simpleEntry, subEntry } from '../helpers/stream-entries.ts';

/** Sub-entry batching (Publish entries with the sub-entry bit): stored once, read by every protocol. */
type Message = Parameters<Parameters<Client['declareConsumer']>[1]>[0];
/** The client's CompressionType (not exported from its index). */
type Compression = NonNullable<Parameters<Publisher['sendSubEntries']>[1]>;
const CompressionType = { None: 0 as Compression, Gzip: 1 as Compression };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const rabbitPresent = hasProgram('rabbitmq', 'the RabbitMQ 3.10.8 side of the sub-entry case read over AMQP 0-9-1');
let rabbitMq: RabbitMq | undefined;
let broker: StreamTestBroker;
let client: Client;
let amqpPort = 0;
let kafkaPort = 0;

beforeAll(async () => {
  broker = await startStream({ plugins: [rabbit(), kafka()], config: { amqp: { port: 'auto' }, kafka: { port: 'auto' }, groups: { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 1000 } } });
  amqpPort = broker.broker.listeners().find((l) => l.protocol === 'amqp')!.port;
  kafkaPort = broker.broker.listeners().find((l) => l.protocol === 'kafka')!.port;
  client = await broker.connect();
  if (rabbitPresent) rabbitMq = await startRabbitMq({ stream: true });
}, 90_000);
afterAll(async () => {
  await client?.close().catch(() => {});
  await broker?.stop();
  await rabbitMq?.stop();
});

/** Runs `send` and waits until `count` more publishing ids of the publisher are confirmed; returns them. */
async function confirmed(publisher: Publisher, count: number, send: () => Promise<unknown>): Promise<bigint[]> {
  const ids: bigint[] = [];
  const all = new Promise<void>((resolve, reject) => {
    publisher.on('publish_confirm', (err, got) => {
      if (err) reject(new Error(`publish error ${err}`));
      ids.push(...got);
      if (ids.length >= count) resolve();
    });
  });
  await send();
  await all;
  return [...ids];
}

/** The bodies an AMQP 0-9-1 stream consumer reads from the first offset, as `body@offset`. */
async function readOverAmqp(port: number, queue: string): Promise<string> {
  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  const closed: string[] = [];
  connection.on('error', (err: Error) => closed.push(err.message));
  const ch = await connection.createChannel();
  ch.on('error', () => {});
  await ch.prefetch(100);
  const got: string[] = [];
  await ch.consume(queue, (m) => m && (got.push(`${m.content.toString()}@${String(m.properties.headers?.['x-stream-offset'])}`), ch.ack(m)), { arguments: { 'x-stream-offset': 'first' } });
  await sleep(800);
  await connection.close().catch(() => {});
  return [...got, ...closed.map((c) => `closed: ${c}`)].join(' ');
}

describe('sub-entry batching on the stream protocol', () => {
  it('sendSubEntries with none and gzip: confirmed, delivered to stream subscribers as sub-entries, read message by message over AMQP 0-9-1 and Kafka', async () => {
    await client.createStream({ stream: 'batched', arguments: {} });
    const publisher = await client.declarePublisher({ stream: 'batched' });
    await confirmed(publisher, 1, async () => {
      await publisher.send(Buffer.from('single-0'));
      await publisher.flush();
    });
    await confirmed(publisher, 1, () => publisher.sendSubEntries([{ content: Buffer.from('none-1'), applicationProperties: { n: '1' } }, { content: Buffer.from('none-2') }], CompressionType.None));
    await confirmed(publisher, 1, () =>
      publisher.sendSubEntries([{ content: Buffer.from('gzip-3'), messageProperties: { messageId: 'm3' } }, { content: Buffer.from('gzip-4') }, { content: Buffer.from('gzip-5') }], CompressionType.Gzip),
    );
    await confirmed(publisher, 1, async () => {
      await publisher.send(Buffer.from('single-6'));
      await publisher.flush();
    });
    const bodies = ['single-0', 'none-1', 'none-2', 'gzip-3', 'gzip-4', 'gzip-5', 'single-6'];

    // rabbitmq-stream-js-client unpacks the sub-entries.
    const got: Message[] = [];
    const consumer = await client.declareConsumer({ stream: 'batched', offset: Offset.first() }, (m: Message) => void got.push(m));
    await eventually(() => got.length === bodies.length, 10_000, 'seven messages');
    await consumer.close();
    expect(got.map((m) => m.content.toString())).toEqual(bodies);
    expect(got[1]!.applicationProperties).toEqual({ n: '1' });
    expect(got[3]!.messageProperties?.messageId).toBe('m3');

    // On the wire: each sub-entry is one entry of its own chunk, compressed as it was published.
    const wire = await StreamWire.connect(broker.port);
    expect(await open(wire)).toBe(1);
    const subscribe = Buffer.concat([Buffer.from([1]), str('batched'), Buffer.from([0, 1, 0, 10])]); // first, credit 10
    wire.send(request(0x07, 9, subscribe));
    await wire.frame();
    const chunks: string[] = [];
    while (chunks.length < 4) {
      const deliver = (await wire.frame())!;
      const chunk = 5; // key, version, subscription id
      const entries = deliver.readUInt16BE(chunk + 2);
      const records = deliver.readUInt32BE(chunk + 4);
      const first = Number(deliver.readBigUInt64BE(chunk + 24));
      const type = deliver[chunk + 48]!;
      chunks.push(`${first}:${entries}/${records}:${(type & 0x80) !== 0 ? `sub-${(type >> 4) & 7}` : 'simple'}`);
      if (type === 0x90) {
        const length = deliver.readUInt32BE(chunk + 48 + 7);
        const inner = gunzipSync(deliver.subarray(chunk + 48 + 11, chunk + 48 + 11 + length));
        expect(inner.length).toBe(deliver.readUInt32BE(chunk + 48 + 3));
        expect(inner.includes(Buffer.from('gzip-5'))).toBe(true);
      }
    }
    wire.close();
    expect(chunks).toEqual(['0:1/1:simple', '1:1/2:sub-0', '3:1/3:sub-1', '6:1/1:simple']);

    // AMQP 0-9-1 stream consumers read every message with its own offset.
    expect(await readOverAmqp(amqpPort, 'batched')).toBe(bodies.map((b, i) => `${b}@${i}`).join(' '));

    // So do Kafka consumers (the gzip sub-entry is a gzip record batch).
    const kafkaClient = new Kafka({ clientId: 'sub-entries', brokers: [`127.0.0.1:${kafkaPort}`], logLevel: logLevel.NOTHING });
    const kafkaConsumer = kafkaClient.consumer({ groupId: 'sub-entry-readers' });
    await kafkaConsumer.connect();
    await kafkaConsumer.subscribe({ topic: 'batched', fromBeginning: true });
    const fromKafka: string[] = [];
    await kafkaConsumer.run({ eachMessage: async ({ message }) => void fromKafka.push(`${message.value!.toString()}@${message.offset}`) });
    await eventually(() => fromKafka.length === bodies.length, 20_000, 'seven Kafka messages');
    await kafkaConsumer.disconnect();
    expect(fromKafka.join(' ')).toBe(bodies.map((b, i) => `${b}@${i}`).join(' '));
  }, 60_000);

  it('deduplicates a sub-entry by its publishing id: a resend is confirmed and not stored, also from a new connection', async () => {
    await client.createStream({ stream: 'dedup', arguments: {} });
    const publisher = await client.declarePublisher({ stream: 'dedup', publisherRef: 'batcher' });
    const batch = [{ content: Buffer.from('a') }, { content: Buffer.from('b') }];
    const first = await confirmed(publisher, 1, () => publisher.sendSubEntries(batch, CompressionType.Gzip));
    const again = await confirmed(publisher, 1, () => publisher.sendSubEntries(batch, CompressionType.Gzip));
    expect(again).toEqual(first);
    expect(await publisher.getLastPublishingId()).toBe(first[0]);
    await publisher.close();

    const other = await broker.connect();
    const resent = await other.declarePublisher({ stream: 'dedup', publisherRef: 'batcher' });
    await confirmed(resent, 1, () => resent.sendSubEntries(batch, CompressionType.None));
    await confirmed(resent, 1, async () => {
      await resent.send(Buffer.from('c'), { publishingId: first[0]! + 1n });
      await resent.flush();
    });
    await other.close();

    const got: string[] = [];
    const consumer = await client.declareConsumer({ stream: 'dedup', offset: Offset.first() }, (m: Message) => void got.push(m.content.toString()));
    await eventually(() => got.length >= 3, 10_000, 'three messages');
    await sleep(300);
    await consumer.close();
    expect(got).toEqual(['a', 'b', 'c']);
  });

  it('an uncompressed sub-entry reads over AMQP 0-9-1 message by message, as on RabbitMQ 3.10.8; a gzip one too, where 3.10.8 closes the connection (541)', async () => {
    const targets = [{ name: 'wharf', stream: broker.port, amqp: amqpPort }, ...(rabbitMq ? [{ name: 'rabbitmq', stream: rabbitMq.streamPort, amqp: rabbitMq.port }] : [])];
    for (const target of targets) {
      const wire = await StreamWire.connect(target.stream);
      expect(await open(wire)).toBe(1);
      for (const [index, compression] of [0, 1].entries()) {
        const stream = `differential-${compression}`;
        wire.send(request(0x0d, 5 + index * 2, str(stream), int32(0)));
        await wire.frame();
        wire.send(request(0x01, 6 + index * 2, Buffer.from([index]), str(''), str(stream)));
        await wire.frame();
        wire.send(publishFrame(index, [simpleEntry(1, 'single-0'), subEntry(2, compression, ['sub-1', 'sub-2']), simpleEntry(3, 'single-3')]));
        const confirm = (await wire.frame())!;
        expect(confirm.readUInt16BE(0), target.name).toBe(0x03);
      }
      wire.close();
      expect(await readOverAmqp(target.amqp, 'differential-0'), target.name).toBe('single-0@0 sub-1@1 sub-2@2 single-3@3');
      const gzip = await readOverAmqp(target.amqp, 'differential-1');
      if (target.name === 'wharf') expect(gzip).toBe('single-0@0 sub-1@1 sub-2@2 single-3@3');
      else expect(gzip).toContain('closed: Connection closed: 541 (INTERNAL-ERROR)');
    }
  }, 30_000);
});
