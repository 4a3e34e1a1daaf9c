import amqp from 'amqplib';
import { Offset, type Client, type Publisher } from 'rabbitmq-stream-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rabbit } from '../../plugins/rabbit/index.ts';
import { startStream, type StreamTestBroker } from '../helpers/stream.ts';
import { codeOf, int32, open, request, StreamWire } from '../helpers/stream-wire.ts';

/** Stream filtering (RabbitMQ 3.13) on the stream protocol: Publish v2 filter values, Subscribe filter.N / match-unfiltered, Deliver v2. */
type Message = Parameters<Parameters<Client['declareConsumer']>[1]>[0];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let broker: StreamTestBroker;
let client: Client;
let amqpPort = 0;

beforeAll(async () => {
  broker = await startStream({ plugins: [rabbit()], config: { amqp: { port: 'auto' } } });
  amqpPort = broker.broker.listeners().find((l) => l.protocol === 'amqp')!.port;
  client = await broker.connect();
});
afterAll(async () => {
  await client?.close().catch(() => {});
  await broker?.stop();
});

/** Sends the messages as one Publish frame (one stored batch: an osiris chunk) and waits for their confirms. */
async function publishChunk(publisher: Publisher, messages: Array<[body: string, state: string | undefined]>): Promise<void> {
  let confirmed = 0;
  const all = new Promise<void>((resolve) =>
    publisher.on('publish_confirm', (err, ids) => {
      expect(err).toBeFalsy();
      confirmed += ids.length;
      if (confirmed >= messages.length) resolve();
    }),
  );
  for (const [body, state] of messages) await publisher.send(Buffer.from(body), state === undefined ? {} : { applicationProperties: { state } });
  await publisher.flush();
  await all;
}

/** What a stream consumer with `filter` gets from the first offset, as `body@offset`, once nothing more comes. */
async function consume(stream: string, filter: { values: string[]; matchUnfiltered: boolean; postFilter?: (m: Message) => boolean } | undefined): Promise<string> {
  const got: string[] = [];
  const consumer = await client.declareConsumer(
    { stream, offset: Offset.first(), ...(filter ? { filter: { values: filter.values, matchUnfiltered: filter.matchUnfiltered, postFilterFunc: filter.postFilter ?? (() => true) } } : {}) },
    (m: Message) => void got.push(`${m.content.toString()}@${m.offset}`),
  );
  await sleep(600);
  await consumer.close();
  return got.join(' ');
}

describe('stream filtering over the stream protocol (RabbitMQ 3.13)', () => {
  it('stores Publish v2 filter values: a filtered subscriber gets the chunks holding a value it wants, whole, the client post-filters; match-unfiltered adds chunks of messages without one; AMQP x-stream-filter consumers read the same values', async () => {
    await client.createStream({ stream: 'fruit', arguments: {} });
    // A publisher with a filter function sends Publish v2, each message with its filter value.
    const filtered = await client.declarePublisher({ stream: 'fruit' }, (m) => m.applicationProperties?.state as string | undefined);
    await publishChunk(filtered, [
      ['apple-1', 'apple'],
      ['apple-2', 'apple'],
    ]);
    await publishChunk(filtered, [['banana-1', 'banana']]);
    await publishChunk(filtered, [
      ['apple-3', 'apple'],
      ['banana-2', 'banana'],
    ]);
    // A publisher without one sends Publish v1: messages without a filter value.
    const plain = await client.declarePublisher({ stream: 'fruit' });
    await publishChunk(plain, [['plain-1', undefined]]);
    // Publish v2 without a filter value (length -1).
    await publishChunk(filtered, [['plain-2', undefined]]);
    await publishChunk(filtered, [['cherry-1', 'cherry']]);

    const everything = 'apple-1@0 apple-2@1 banana-1@2 apple-3@3 banana-2@4 plain-1@5 plain-2@6 cherry-1@7';
    expect(await consume('fruit', undefined)).toBe(everything);
    // The filter value is no part of the message: subscribers see the application properties published.
    const properties: unknown[] = [];
    const reader = await client.declareConsumer({ stream: 'fruit', offset: Offset.first() }, (m: Message) => void properties.push(m.applicationProperties));
    await sleep(400);
    await reader.close();
    expect(properties[0]).toEqual({ state: 'apple' });
    // Chunks come whole: banana-2 shares its chunk with apple-3.
    expect(await consume('fruit', { values: ['apple'], matchUnfiltered: false })).toBe('apple-1@0 apple-2@1 apple-3@3 banana-2@4');
    // The client's post-filter runs on Deliver v2 only: it leaves the messages it wants.
    expect(await consume('fruit', { values: ['apple'], matchUnfiltered: false, postFilter: (m) => m.applicationProperties?.state === 'apple' })).toBe('apple-1@0 apple-2@1 apple-3@3');
    expect(await consume('fruit', { values: ['banana', 'cherry'], matchUnfiltered: false })).toBe('banana-1@2 apple-3@3 banana-2@4 cherry-1@7');
    expect(await consume('fruit', { values: ['cherry'], matchUnfiltered: true })).toBe('plain-1@5 plain-2@6 cherry-1@7');
    expect(await consume('fruit', { values: ['durian'], matchUnfiltered: false })).toBe('');

    // AMQP 0-9-1 stream consumers filter on the values published over the stream protocol.
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${amqpPort}`);
    const read = async (args: Record<string, unknown>): Promise<string> => {
      const ch = await connection.createChannel();
      await ch.prefetch(100);
      const got: string[] = [];
      await ch.consume('fruit', (m) => m && (got.push(`${m.content.toString()}@${String(m.properties.headers?.['x-stream-offset'])}`), ch.ack(m)), { arguments: { 'x-stream-offset': 'first', ...args } });
      await sleep(500);
      await ch.close();
      return got.join(' ');
    };
    expect(await read({ 'x-stream-filter': 'apple' })).toBe('apple-1@0 apple-2@1 apple-3@3 banana-2@4');
    expect(await read({ 'x-stream-filter': 'cherry', 'x-stream-match-unfiltered': true })).toBe('plain-1@5 plain-2@6 cherry-1@7');
    // Nor does an AMQP consumer see it.
    const ch = await connection.createChannel();
    await ch.prefetch(1);
    const first = await new Promise<amqp.ConsumeMessage>((resolve) => void ch.consume('fruit', (m) => m && resolve(m), { arguments: { 'x-stream-offset': 'first' } }));
    expect(first.properties.headers).toEqual({ state: 'apple', 'x-stream-offset': 0 });
    await connection.close();
  });

  it('a stream subscriber filters on the x-stream-filter-value header AMQP 0-9-1 publishers set', async () => {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${amqpPort}`);
    const ch = await connection.createConfirmChannel();
    await ch.assertQueue('veg', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    for (const [body, value] of [['leek-1', 'leek'], ['kale-1', 'kale'], ['leek-2', 'leek']] as const) {
      ch.sendToQueue('veg', Buffer.from(body), { headers: { 'x-stream-filter-value': value } });
      await ch.waitForConfirms();
    }
    await connection.close();
    expect(await consume('veg', { values: ['leek'], matchUnfiltered: false })).toBe('leek-1@0 leek-2@2');
  });

  it('announces Publish v2 and Subscribe v1 as RabbitMQ 3.13 does, and sends Deliver v2 only to a client that reads it', async () => {
    await client.createStream({ stream: 'versions', arguments: {} });
    const publisher = await client.declarePublisher({ stream: 'versions' });
    await publishChunk(publisher, [['one', undefined]]);

    const versionsOf = async (clientDeliverMax: number | undefined): Promise<{ announced: Map<number, [number, number]>; deliverVersion: number }> => {
      const wire = await StreamWire.connect(broker.port);
      expect(await open(wire)).toBe(1);
      const mine = clientDeliverMax === undefined ? [] : [[0x08, 1, clientDeliverMax]];
      const entries = Buffer.alloc(mine.length * 6);
      mine.forEach(([key, min, max], i) => {
        entries.writeUInt16BE(key!, i * 6);
        entries.writeUInt16BE(min!, i * 6 + 2);
        entries.writeUInt16BE(max!, i * 6 + 4);
      });
      wire.send(request(0x1b, 5, int32(mine.length), entries));
      const answer = (await wire.frame())!;
      expect(answer.readUInt16BE(0)).toBe(0x801b);
      expect(codeOf(answer)).toBe(1);
      const announced = new Map<number, [number, number]>();
      for (let i = 0, n = answer.readInt32BE(10); i < n; i++) announced.set(answer.readUInt16BE(14 + i * 6), [answer.readUInt16BE(16 + i * 6), answer.readUInt16BE(18 + i * 6)]);
      // Subscribe 1 to 'versions' from the first offset with credit 1.
      const name = Buffer.from('versions');
      const body = Buffer.alloc(1 + 2 + name.length + 2 + 2);
      body.writeUInt8(1, 0);
      body.writeUInt16BE(name.length, 1);
      name.copy(body, 3);
      body.writeUInt16BE(1, 3 + name.length);
      body.writeUInt16BE(1, 5 + name.length);
      wire.send(request(0x07, 6, body));
      expect(codeOf((await wire.frame())!)).toBe(1);
      const deliver = (await wire.frame())!;
      expect(deliver.readUInt16BE(0)).toBe(0x08);
      wire.close();
      return { announced, deliverVersion: deliver.readUInt16BE(2) };
    };
    const v2 = await versionsOf(2);
    expect(v2.announced.get(0x02)).toEqual([1, 2]); // publish
    expect(v2.announced.get(0x07)).toEqual([1, 1]); // subscribe
    expect(v2.deliverVersion).toBe(2);
    expect((await versionsOf(1)).deliverVersion).toBe(1);
    expect((await versionsOf(undefined)).deliverVersion).toBe(1);
  });
});
