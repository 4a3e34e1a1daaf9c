import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { Offset } from 'rabbitmq-stream-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafka } from '../../plugins/kafka/index.ts';
import { rabbit } from '../../plugins/rabbit/index.ts';
import { TOKENS, type TopicRegistry } from '../../core/index.ts';
import { startStream, type StreamTestBroker } from '../helpers/stream.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { startAdmin } from '../helpers/admin.ts';

/** Stream queues over AMQP 0-9-1 (x-queue-type: stream), and the same streams over the stream protocol and Kafka. */
const stream = { 'x-queue-type': 'stream' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries an assertion until it holds or `timeoutMs` passed. */
async function eventually(assertion: () => unknown, timeoutMs = 5000): Promise<void> {
  for (const until = Date.now() + timeoutMs; ; await sleep(20)) {
    try {
      await assertion();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
    }
  }
}

let broker: StreamTestBroker;
let amqpPort = 0;
let kafkaPort = 0;
const connect = () => amqp.connect(`amqp://guest:guest@127.0.0.1:${amqpPort}`);

beforeAll(async () => {
  broker = await startStream({ plugins: [rabbit(), kafka()], config: { amqp: { port: 'auto' }, kafka: { port: 'auto' } } });
  amqpPort = broker.broker.listeners().find((l) => l.protocol === 'amqp')!.port;
  kafkaPort = broker.broker.listeners().find((l) => l.protocol === 'kafka')!.port;
});
afterAll(async () => {
  await broker?.stop();
});

/** A channel with its close error, if the broker closes it. */
async function channel(connection: amqp.ChannelModel): Promise<{ ch: amqp.ConfirmChannel; closed: Promise<{ code: number; message: string }> }> {
  const ch = await connection.createConfirmChannel();
  const closed = new Promise<{ code: number; message: string }>((resolve) => ch.on('error', (err: { code: number; message: string }) => resolve(err)));
  return { ch, closed };
}

/** Publishes bodies `prefix0..` one confirm at a time, so each is its own batch (an osiris chunk). */
async function publishEach(ch: amqp.ConfirmChannel, queue: string, count: number, prefix = 'm', options: amqp.Options.Publish = {}): Promise<void> {
  for (let i = 0; i < count; i++) {
    ch.sendToQueue(queue, Buffer.from(`${prefix}${i}`), options);
    await ch.waitForConfirms();
  }
}

/** Consumes until `count` messages came (acking each unless `ack` is false), then cancels. */
async function take(ch: amqp.Channel, queue: string, count: number, args: Record<string, unknown> = {}, ack = true): Promise<amqp.ConsumeMessage[]> {
  const got: amqp.ConsumeMessage[] = [];
  let tag = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} from ${queue}`)), 5000);
    void ch
      .consume(queue, (m) => {
        if (!m || got.length >= count) return;
        got.push(m);
        if (ack) ch.ack(m);
        if (got.length === count) {
          clearTimeout(timer);
          resolve();
        }
      }, { noAck: false, arguments: args })
      .then((ok) => (tag = ok.consumerTag), reject);
  });
  await ch.cancel(tag);
  return got;
}

const bodies = (ms: amqp.ConsumeMessage[]) => ms.map((m) => m.content.toString());
const offsets = (ms: amqp.ConsumeMessage[]) => ms.map((m) => Number(m.properties.headers!['x-stream-offset']));

describe('stream queues over AMQP 0-9-1', () => {
  it('declares only durable, non-exclusive, non-auto-delete streams, with RabbitMQ\'s texts', async () => {
    const connection = await connect();
    const cases: Array<[amqp.Options.AssertQueue, string]> = [
      [{ durable: false, arguments: stream }, "PRECONDITION_FAILED - invalid property 'non-durable' for queue 's-bad' in vhost '/'"],
      [{ durable: true, exclusive: true, arguments: stream }, "PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue 's-bad' in vhost '/'"],
      [{ durable: true, autoDelete: true, arguments: stream }, "PRECONDITION_FAILED - invalid property 'auto-delete' for queue 's-bad' in vhost '/'"],
      [{ durable: true, arguments: { ...stream, 'x-max-age': '7X' } }, "PRECONDITION_FAILED - invalid arg 'x-max-age' for queue 's-bad' in vhost '/': invalid_max_age"],
      [{ durable: true, arguments: { ...stream, 'x-max-priority': 5 } }, "PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 's-bad' in vhost '/' of queue type rabbit_stream_queue"],
      [{ durable: true, arguments: { ...stream, 'x-stream-max-segment-size-bytes': 4_000_000_000 } }, 'PRECONDITION_FAILED - Exceeded max value for x-stream-max-segment-size-bytes'],
    ];
    for (const [options, text] of cases) {
      const { ch, closed } = await channel(connection);
      await expect(ch.assertQueue('s-bad', options)).rejects.toThrow();
      const err = await closed;
      expect([err.code, err.message.replace(/^Channel closed by server: \d+ \(/, '').replace(/\) with message "(.*)"$/, ' $1')]).toEqual([406, expect.stringContaining(text.split(' - ')[0]!)]);
      expect(err.message).toContain(text.split(' - ')[1]!);
    }
    const { ch } = await channel(connection);
    const ok = await ch.assertQueue('s-declared', { durable: true, arguments: { ...stream, 'x-max-age': '7D', 'x-max-length-bytes': 10_000_000, 'x-stream-max-segment-size-bytes': 500_000, 'x-queue-leader-locator': 'balanced' } });
    expect(ok).toEqual({ queue: 's-declared', messageCount: 0, consumerCount: 0 });
    expect(await ch.checkQueue('s-declared')).toEqual({ queue: 's-declared', messageCount: 0, consumerCount: 0 });
    const topic = broker.broker.get<TopicRegistry>(TOKENS.TopicRegistry).get('s-declared')!;
    expect(topic.partitions).toBe(1);
    expect(topic.config.retentionMs).toBe(7 * 86_400_000);
    await ch.deleteQueue('s-declared');
    expect(broker.broker.get<TopicRegistry>(TOKENS.TopicRegistry).get('s-declared')).toBeUndefined();
    await connection.close();
  });

  it('consumes from first, next, last, an offset, a timestamp and an interval; each delivery carries its x-stream-offset', async () => {
    const connection = await connect();
    const { ch } = await channel(connection);
    await ch.assertQueue('s-offsets', { durable: true, arguments: stream });
    await publishEach(ch, 's-offsets', 5);
    await ch.prefetch(10);

    const first = await take(ch, 's-offsets', 5, { 'x-stream-offset': 'first' });
    expect(bodies(first)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(offsets(first)).toEqual([0, 1, 2, 3, 4]);
    expect(first[0]!.fields.exchange).toBe('');
    expect(first[0]!.fields.routingKey).toBe('s-offsets');
    expect(first[0]!.fields.redelivered).toBe(false);

    expect(offsets(await take(ch, 's-offsets', 3, { 'x-stream-offset': 2 }))).toEqual([2, 3, 4]);
    expect(offsets(await take(ch, 's-offsets', 1, { 'x-stream-offset': 'last' }))).toEqual([4]);
    expect(offsets(await take(ch, 's-offsets', 5, { 'x-stream-offset': '1h' }))).toEqual([0, 1, 2, 3, 4]);
    expect(offsets(await take(ch, 's-offsets', 5, { 'x-stream-offset': { '!': 'timestamp', value: Math.floor(Date.now() / 1000) - 60 } }))).toEqual([0, 1, 2, 3, 4]);

    // next (the default): only what is published after the consumer started.
    const later: amqp.ConsumeMessage[] = [];
    const { consumerTag } = await ch.consume('s-offsets', (m) => m && later.push(m), { noAck: false });
    await sleep(50);
    await publishEach(ch, 's-offsets', 2, 'late');
    await eventually(() => expect(bodies(later)).toEqual(['late0', 'late1']));
    expect(offsets(later)).toEqual([5, 6]);
    await ch.cancel(consumerTag);
    await ch.deleteQueue('s-offsets');
    await connection.close();
  });

  it('prefetch is credit: with prefetch 2 and no acks only 2 arrive; each ack lets one more come; nothing is removed', async () => {
    const connection = await connect();
    const { ch } = await channel(connection);
    await ch.assertQueue('s-credit', { durable: true, arguments: stream });
    await publishEach(ch, 's-credit', 6);
    await ch.prefetch(2);
    const got: amqp.ConsumeMessage[] = [];
    await ch.consume('s-credit', (m) => m && got.push(m), { noAck: false, arguments: { 'x-stream-offset': 'first' } });
    await sleep(300);
    expect(bodies(got)).toEqual(['m0', 'm1']);
    ch.ack(got[0]!);
    await eventually(() => expect(got.length).toBe(3));
    await sleep(200);
    expect(got.length).toBe(3);
    ch.ack(got[2]!, true);
    await eventually(() => expect(bodies(got)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']));
    expect((await ch.checkQueue('s-credit')).messageCount).toBe(6);
    await ch.close();
    // Another consumer reads it all again: acks never deleted anything.
    const again = await connection.createChannel();
    await again.prefetch(10);
    expect(bodies(await take(again, 's-credit', 6, { 'x-stream-offset': 'first' }))).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    await again.deleteQueue('s-credit');
    await connection.close();
  });

  it('refuses a consumer without prefetch (406), no-ack consumers, basic.get, nack and reject (540) as RabbitMQ', async () => {
    const errors: string[] = [];
    const refused = async (act: (ch: amqp.Channel) => Promise<unknown>, prefetch = 0) => {
      const connection = await connect();
      const closing = new Promise<string>((resolve) => {
        connection.on('error', (err: Error) => resolve(err.message));
      });
      const ch = await connection.createChannel();
      const closedChannel = new Promise<string>((resolve) => ch.on('error', (err: Error) => resolve(err.message)));
      await ch.assertQueue('s-refusals', { durable: true, arguments: stream });
      if (prefetch) await ch.prefetch(prefetch);
      void act(ch).catch(() => undefined);
      errors.push(await Promise.race([closedChannel, closing]));
      await connection.close().catch(() => undefined);
    };
    await refused((ch) => ch.consume('s-refusals', () => undefined, { noAck: false }));
    await refused((ch) => ch.consume('s-refusals', () => undefined, { noAck: true }), 10);
    await refused((ch) => ch.get('s-refusals', { noAck: false }), 10);
    await refused(async (ch) => {
      ch.sendToQueue('s-refusals', Buffer.from('x'));
      await ch.consume('s-refusals', (m) => m && ch.nack(m), { noAck: false, arguments: { 'x-stream-offset': 'first' } });
    }, 10);
    expect(errors[0]).toContain("406 (PRECONDITION-FAILED) with message \"PRECONDITION_FAILED - consumer prefetch count is not set for 'queue 's-refusals' in vhost '/''\"");
    expect(errors[1]).toContain("NOT_IMPLEMENTED - automatic acknowledgement not supported by stream queues queue 's-refusals' in vhost '/'");
    expect(errors[2]).toContain("NOT_IMPLEMENTED - basic.get not supported by stream queues queue 's-refusals' in vhost '/'");
    expect(errors[3]).toContain("NOT_IMPLEMENTED - basic.nack and basic.reject not supported by stream queues queue 's-refusals' in vhost '/'");
    const connection = await connect();
    await (await connection.createChannel()).deleteQueue('s-refusals');
    await connection.close();
  });

  it('keeps properties and headers: amqplib publish → amqplib consume, the stream protocol and Kafka', async () => {
    const connection = await connect();
    const { ch } = await channel(connection);
    await ch.assertExchange('s-x', 'direct', { durable: true });
    await ch.assertQueue('s-cross', { durable: true, arguments: stream });
    await ch.bindQueue('s-cross', 's-x', 'rk');
    ch.publish('s-x', 'rk', Buffer.from('hello'), {
      headers: { trace: 'abc', seq: '7' },
      contentType: 'text/plain',
      messageId: 'id-1',
      correlationId: 'c-1',
      replyTo: 'back',
      timestamp: 1_700_000_000,
      type: 'greeting',
      appId: 'tests',
      deliveryMode: 2,
      priority: 3,
    });
    await ch.waitForConfirms();
    await ch.prefetch(5);
    const [m] = await take(ch, 's-cross', 1, { 'x-stream-offset': 'first' });
    expect(m!.content.toString()).toBe('hello');
    expect(m!.fields.exchange).toBe('s-x');
    expect(m!.fields.routingKey).toBe('rk');
    expect(m!.properties).toMatchObject({ contentType: 'text/plain', messageId: 'id-1', correlationId: 'c-1', replyTo: 'back', timestamp: 1_700_000_000, type: 'greeting', appId: 'tests', deliveryMode: 2, priority: 3 });
    expect(m!.properties.headers).toMatchObject({ trace: 'abc', seq: '7', 'x-stream-offset': 0 });

    // The stream protocol reads the same record as an AMQP 1.0 message.
    const client = await broker.connect();
    const read: Array<{ content: Buffer; applicationProperties?: Record<string, unknown>; messageProperties?: Record<string, unknown> }> = [];
    await client.declareConsumer({ stream: 's-cross', offset: Offset.first() }, (msg) => void read.push(msg as never));
    await eventually(() => expect(read.length).toBe(1));
    expect(read[0]!.content.toString()).toBe('hello');
    expect(read[0]!.applicationProperties).toMatchObject({ trace: 'abc', seq: '7', 'x-basic-type': 'greeting' });
    expect(read[0]!.messageProperties).toMatchObject({ messageId: 'id-1', contentType: 'text/plain' });
    await client.close();

    // Kafka sees the body as the value and the string headers as headers.
    const cluster = new Kafka({ clientId: 'amqp-stream', brokers: [`127.0.0.1:${kafkaPort}`], logLevel: logLevel.NOTHING });
    const consumer = cluster.consumer({ groupId: 'amqp-stream-g' });
    await consumer.connect();
    await consumer.subscribe({ topic: 's-cross', fromBeginning: true });
    const values: Array<{ value: string; trace: string | undefined }> = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push({ value: message.value!.toString(), trace: message.headers?.trace?.toString() }) });
    await eventually(() => expect(values).toEqual([{ value: 'hello', trace: 'abc' }]), 15_000);
    await consumer.disconnect();
    await ch.deleteQueue('s-cross');
    await connection.close();
  });

  it('keeps typed headers (numbers, booleans, timestamps, bytes) through the stream', async () => {
    const connection = await connect();
    const { ch } = await channel(connection);
    await ch.assertQueue('s-typed', { durable: true, arguments: stream });
    ch.sendToQueue('s-typed', Buffer.from('typed'), { headers: { n: 42, big: 5_000_000_000, neg: -3, flag: true, off: false, ratio: 0.5, when: { '!': 'timestamp', value: 1_700_000_000 }, raw: Buffer.from([1, 2]) } });
    await ch.waitForConfirms();
    await ch.prefetch(1);
    const [m] = await take(ch, 's-typed', 1, { 'x-stream-offset': 'first' });
    expect(m!.properties.headers).toMatchObject({ n: 42, big: 5_000_000_000, neg: -3, flag: true, off: false, ratio: 0.5, when: { '!': 'timestamp', value: 1_700_000_000 }, 'x-stream-offset': 0 });
    expect(Buffer.from(m!.properties.headers!.raw as Buffer)).toEqual(Buffer.from([1, 2]));
    await ch.deleteQueue('s-typed');
    await connection.close();
  });

  it('a stream the stream protocol declared and wrote is a stream queue that amqplib reads from first', async () => {
    const client = await broker.connect();
    await client.createStream({ stream: 's-native', arguments: {} });
    const publisher = await client.declarePublisher({ stream: 's-native' });
    for (let i = 0; i < 3; i++) await publisher.send(Buffer.from(`native${i}`), { applicationProperties: { seq: `${i}` } });
    await publisher.flush();

    const connection = await connect();
    const { ch } = await channel(connection);
    await eventually(async () => expect((await ch.checkQueue('s-native')).messageCount).toBe(3));
    await ch.prefetch(10);
    const got = await take(ch, 's-native', 3, { 'x-stream-offset': 'first' });
    expect(bodies(got)).toEqual(['native0', 'native1', 'native2']);
    expect(offsets(got)).toEqual([0, 1, 2]);
    expect(got.map((m) => m.properties.headers!.seq)).toEqual(['0', '1', '2']);
    expect(got[0]!.fields.routingKey).toBe('s-native');
    await publisher.close();
    await client.deleteStream({ stream: 's-native' });
    await client.close();
    await eventually(async () => {
      const probe = await connection.createChannel();
      probe.on('error', () => undefined);
      await expect(probe.checkQueue('s-native')).rejects.toThrow(/404/);
    });
    await connection.close();
  });

  it('a stream queue and its messages survive a restart; the management API shows type stream', async () => {
    const dir = tempDir();
    let admin = await startAdmin([rabbit()], {}, dir.path);
    const url = () => `amqp://guest:guest@127.0.0.1:${admin.port('amqp')}`;
    try {
      let connection = await amqp.connect(url());
      const ch = await connection.createConfirmChannel();
      await ch.assertQueue('s-restart', { durable: true, arguments: { ...stream, 'x-max-age': '1D' } });
      await publishEach(ch, 's-restart', 3);
      await connection.close();
      const shown = (await admin.api('GET', '/api/queues/%2F/s-restart')).body as Record<string, unknown>;
      expect([shown.type, shown.durable, shown.arguments]).toEqual(['stream', true, { 'x-queue-type': 'stream', 'x-max-age': '1D' }]);
      await admin.stop();
      admin = await startAdmin([rabbit()], {}, dir.path);
      connection = await amqp.connect(url());
      const again = await connection.createChannel();
      await again.prefetch(10);
      expect((await again.checkQueue('s-restart')).messageCount).toBe(3);
      const got = await take(again, 's-restart', 3, { 'x-stream-offset': 'first' });
      expect(bodies(got)).toEqual(['m0', 'm1', 'm2']);
      expect(offsets(got)).toEqual([0, 1, 2]);
      await connection.close();
    } finally {
      await admin.stop();
      dir.remove();
    }
  }, 30_000);
});

describe('stream filtering over AMQP 0-9-1 (RabbitMQ 3.13 semantics)', () => {
  it('a consumer with x-stream-filter gets the batches (chunks) holding a message it wants, whole; x-stream-match-unfiltered adds those without a filter value', async () => {
    const connection = await connect();
    const ch = await connection.createConfirmChannel();
    await ch.assertQueue('filtered', { durable: true, arguments: stream });
    const send = (body: string, value?: string) => ch.sendToQueue('filtered', Buffer.from(body), value === undefined ? {} : { headers: { 'x-stream-filter-value': value } });
    // One batch each, waiting for the confirm.
    for (const [body, value] of [['apple-1', 'apple'], ['banana-1', 'banana'], ['plain-1', undefined], ['cherry-1', 'cherry']] as const) {
      send(body, value);
      await ch.waitForConfirms();
    }
    // A Kafka producer writes two messages as one batch: a chunk with two filter values.
    const producer = new Kafka({ clientId: 'filter', brokers: [`127.0.0.1:${kafkaPort}`], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: 'filtered', messages: [{ value: 'apple-2', headers: { 'x-stream-filter-value': 'apple' } }, { value: 'banana-2', headers: { 'x-stream-filter-value': 'banana' } }] });
    await producer.disconnect();

    const read = async (args: Record<string, unknown>): Promise<string> => {
      const reader = await connection.createChannel();
      await reader.prefetch(100);
      const got: string[] = [];
      await reader.consume('filtered', (m) => m && (got.push(`${m.content.toString()}@${String(m.properties.headers?.['x-stream-offset'])}`), reader.ack(m)), { arguments: { 'x-stream-offset': 'first', ...args } });
      await sleep(500);
      await reader.close();
      return got.join(' ');
    };
    expect(await read({ 'x-stream-filter': 'apple' })).toBe('apple-1@0 apple-2@4 banana-2@5');
    expect(await read({ 'x-stream-filter': ['banana', 'cherry'] })).toBe('banana-1@1 cherry-1@3 apple-2@4 banana-2@5');
    expect(await read({ 'x-stream-filter': 'cherry', 'x-stream-match-unfiltered': true })).toBe('plain-1@2 cherry-1@3');
    expect(await read({ 'x-stream-filter': 'durian' })).toBe('');
    const everything = 'apple-1@0 banana-1@1 plain-1@2 cherry-1@3 apple-2@4 banana-2@5';
    expect(await read({})).toBe(everything);
    // A filter that is neither a string nor an array filters nothing, as RabbitMQ ignores it.
    expect(await read({ 'x-stream-filter': 7 })).toBe(everything);
    await ch.deleteQueue('filtered');
    await connection.close();
  });
});
