import { afterEach, describe, expect, it } from 'vitest';
import { TOKENS } from '../../core/index.ts';
import { Offset, type Client } from 'rabbitmq-stream-js-client';
import { codeOf, int32, login, open, request, str, StreamWire } from '../helpers/stream-wire.ts';

type Message = Parameters<Parameters<Client['declareConsumer']>[1]>[0];
import { startStream, type StreamTestBroker } from '../helpers/stream.ts';
import { tempDir } from '../helpers/temp-dir.ts';

let broker: StreamTestBroker | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  await broker?.stop();
  broker = undefined;
});

async function client(options?: Parameters<StreamTestBroker['connect']>[0]): Promise<Client> {
  const c = await broker!.connect(options);
  clients.push(c);
  return c;
}

function collect(count: number, timeoutMs = 10_000): { messages: Message[]; handle: (m: Message) => void; done: Promise<Message[]> } {
  const messages: Message[] = [];
  let resolve!: (m: Message[]) => void;
  let reject!: (e: Error) => void;
  const done = new Promise<Message[]>((res, rej) => ((resolve = res), (reject = rej)));
  const timer = setTimeout(() => reject(new Error(`only ${messages.length} of ${count} messages`)), timeoutMs);
  return {
    messages,
    done,
    handle: (m) => {
      messages.push(m);
      if (messages.length === count) {
        clearTimeout(timer);
        resolve(messages);
      }
    },
  };
}

describe('RabbitMQ Stream protocol (rabbitmq-stream-js-client)', () => {
  it('publishes with confirms and consumes from first, with properties and application properties', async () => {
    broker = await startStream();
    const c = await client();
    await c.createStream({ stream: 'orders', arguments: {} });
    const publisher = await c.declarePublisher({ stream: 'orders' });
    for (let i = 0; i < 10; i++) {
      await publisher.send(Buffer.from(`order ${i}`), { messageProperties: { messageId: `m${i}`, contentType: 'text/plain' }, applicationProperties: { region: 'eu', n: i + 1 } });
    }
    await publisher.flush();
    const got = collect(10);
    await c.declareConsumer({ stream: 'orders', offset: Offset.first() }, got.handle);
    const messages = await got.done;
    expect(messages.map((m) => m.content.toString())).toEqual([...Array(10).keys()].map((i) => `order ${i}`));
    expect(messages.map((m) => m.offset)).toEqual([...Array(10).keys()].map((i) => BigInt(i)));
    expect(messages[3]!.messageProperties).toMatchObject({ messageId: 'm3', contentType: 'text/plain' });
    expect(messages[3]!.applicationProperties).toEqual({ region: 'eu', n: 4 });
  });

  it('confirms every publishing id', async () => {
    broker = await startStream();
    const c = await client();
    await c.createStream({ stream: 'confirmed', arguments: {} });
    const publisher = await c.declarePublisher({ stream: 'confirmed' });
    const confirmed = new Set<bigint>();
    publisher.on('publish_confirm', (err, ids) => {
      expect(err).toBeFalsy();
      for (const id of ids) confirmed.add(id);
    });
    const sent: bigint[] = [];
    for (let i = 0; i < 500; i++) sent.push((await publisher.send(Buffer.from(`m${i}`))).publishingId);
    await publisher.flush();
    await waitFor(() => confirmed.size === 500);
    expect([...confirmed].sort((a, b) => (a < b ? -1 : 1))).toEqual(sent);
  });

  it('deduplicates a named publisher: a resend after reconnecting stores nothing twice', async () => {
    const dir = tempDir();
    try {
      broker = await startStream({ dataDir: dir.path });
      let c = await client();
      await c.createStream({ stream: 'dedup', arguments: {} });
      let publisher = await c.declarePublisher({ stream: 'dedup', publisherRef: 'app-1' });
      for (let i = 1n; i <= 5n; i++) await publisher.basicSend(i, Buffer.from(`m${i}`));
      await publisher.flush();
      expect(await waitForSequence(publisher, 5n)).toBe(5n);
      await c.close();
      clients.length = 0;
      await broker.stop();
      broker = await startStream({ dataDir: dir.path });
      c = await client();
      publisher = await c.declarePublisher({ stream: 'dedup', publisherRef: 'app-1' });
      expect(await publisher.getLastPublishingId()).toBe(5n);
      const confirmed: bigint[] = [];
      publisher.on('publish_confirm', (_err, ids) => confirmed.push(...ids));
      for (let i = 3n; i <= 8n; i++) await publisher.basicSend(i, Buffer.from(`m${i}`));
      await publisher.flush();
      await waitFor(() => confirmed.length === 6);
      const got = collect(8);
      await c.declareConsumer({ stream: 'dedup', offset: Offset.first() }, got.handle);
      expect((await got.done).map((m) => m.content.toString())).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']);
      await sleep(200);
      expect(got.messages).toHaveLength(8);
    } finally {
      await broker?.stop();
      broker = undefined;
      dir.remove();
    }
  });

  it('subscribes from an offset, a timestamp, last and next', async () => {
    broker = await startStream();
    const c = await client();
    await c.createStream({ stream: 'positions', arguments: {} });
    const publisher = await c.declarePublisher({ stream: 'positions' });
    for (let i = 0; i < 5; i++) await publisher.send(Buffer.from(`early ${i}`));
    await publisher.flush();
    await waitFor(async () => (await c.streamStatsRequest('positions')).committedChunkId === 4n);
    await sleep(20);
    const middle = new Date();
    await sleep(20);
    for (let i = 0; i < 5; i++) await publisher.send(Buffer.from(`late ${i}`));
    await publisher.flush();
    await waitFor(async () => (await c.streamStatsRequest('positions')).committedChunkId === 9n);

    const fromOffset = collect(3);
    await c.declareConsumer({ stream: 'positions', offset: Offset.offset(7n) }, fromOffset.handle);
    expect((await fromOffset.done).map((m) => [m.offset, m.content.toString()])).toEqual([[7n, 'late 2'], [8n, 'late 3'], [9n, 'late 4']]);

    const fromTime = collect(5);
    await c.declareConsumer({ stream: 'positions', offset: Offset.timestamp(middle) }, fromTime.handle);
    expect((await fromTime.done).map((m) => m.content.toString())).toEqual(['late 0', 'late 1', 'late 2', 'late 3', 'late 4']);

    // last: the whole last chunk, as RabbitMQ delivers it
    const fromLast = collect(1);
    await c.declareConsumer({ stream: 'positions', offset: Offset.last() }, fromLast.handle);
    await fromLast.done;
    await waitFor(() => fromLast.messages.at(-1)!.content.toString() === 'late 4');
    expect(fromLast.messages.every((m) => m.content.toString().startsWith('late'))).toBe(true);

    const fromNext = collect(1);
    await c.declareConsumer({ stream: 'positions', offset: Offset.next() }, fromNext.handle);
    await sleep(200);
    expect(fromNext.messages).toHaveLength(0);
    await publisher.send(Buffer.from('newest'));
    await publisher.flush();
    expect((await fromNext.done).map((m) => m.content.toString())).toEqual(['newest']);
  });

  it('keeps a consumer offset under its reference across a broker restart', async () => {
    const dir = tempDir();
    try {
      broker = await startStream({ dataDir: dir.path });
      let c = await client();
      await c.createStream({ stream: 'tracked', arguments: {} });
      const publisher = await c.declarePublisher({ stream: 'tracked' });
      for (let i = 0; i < 10; i++) await publisher.send(Buffer.from(`t${i}`));
      await publisher.flush();
      const got = collect(10);
      const consumer = await c.declareConsumer({ stream: 'tracked', offset: Offset.first(), consumerRef: 'reader' }, got.handle);
      await got.done;
      await consumer.storeOffset(6n);
      await waitFor(async () => (await c.queryOffset({ reference: 'reader', stream: 'tracked' }).catch(() => -1n)) === 6n);
      await c.close();
      clients.length = 0;
      await broker.stop();
      broker = await startStream({ dataDir: dir.path });
      c = await client();
      expect(await c.queryOffset({ reference: 'reader', stream: 'tracked' })).toBe(6n);
      await expect(c.queryOffset({ reference: 'nobody', stream: 'tracked' })).rejects.toThrow();
    } finally {
      await broker?.stop();
      broker = undefined;
      dir.remove();
    }
  });

  it('deletes a stream: Metadata and DeclarePublisher see it gone', async () => {
    broker = await startStream();
    const c = await client();
    await c.createStream({ stream: 'doomed', arguments: {} });
    const other = await client();
    await other.declareConsumer({ stream: 'doomed', offset: Offset.first(), connectionClosedListener: () => {} }, () => {});
    const [metadata] = await c.queryMetadata({ streams: ['doomed'] });
    expect(metadata!.leader).toMatchObject({ host: '127.0.0.1', port: broker.port });
    await c.deleteStream({ stream: 'doomed' });
    const [after] = await c.queryMetadata({ streams: ['doomed'] });
    expect(after!.leader).toBeUndefined();
    await expect(c.declarePublisher({ stream: 'doomed' })).rejects.toThrow();
    await expect(c.deleteStream({ stream: 'doomed' })).rejects.toThrow(/2|not exist/i);
  });

  it('answers errors with RabbitMQ codes: bad credentials, unknown vhost, existing stream, bad arguments', async () => {
    broker = await startStream({ stream: { refusalDelayMs: 100 } });
    const badPassword = await StreamWire.connect(broker.port);
    expect(await login(badPassword, 'guest', 'wrong')).toBe(0x08);
    await badPassword.untilClosed();
    const unknownUser = await StreamWire.connect(broker.port);
    expect(await login(unknownUser, 'nobody', 'x')).toBe(0x08);
    await unknownUser.untilClosed();
    const badVhost = await StreamWire.connect(broker.port);
    expect(await open(badVhost, 'nowhere')).toBe(0x0c);
    await badVhost.untilClosed();
    const c = await client();
    await c.createStream({ stream: 'twice', arguments: {} });
    await expect(c.createStream({ stream: 'twice', arguments: {} })).resolves.toBe(true);
    await expect(c.createStream({ stream: 'amq.reserved', arguments: {} })).rejects.toThrow(/17|precondition/i);
    await expect(c.createStream({ stream: 'aged', arguments: { 'max-age': '10X' } })).rejects.toThrow(/17|precondition/i);
    await expect(c.createStream({ stream: 'aged', arguments: { 'max-age': '10D', 'max-length-bytes': 1_000_000 } })).resolves.toBe(true);
    const topic = broker.broker.container.get<import('../../core/index.ts').TopicRegistry>(TOKENS.TopicRegistry).get('aged')!;
    expect(topic.config).toMatchObject({ retentionMs: 10 * 86_400_000, retentionBytes: 1_000_000 });
  });

  it('creates super streams: Partitions and Route answer, a super-stream publisher routes by key, a super-stream consumer reads every partition', async () => {
    broker = await startStream();
    const c = await client();
    await c.createSuperStream({ streamName: 'invoices' }, undefined, 3);
    expect(await c.partitionsQuery({ superStream: 'invoices' })).toEqual(['invoices-0', 'invoices-1', 'invoices-2']);
    expect(await c.routeQuery({ routingKey: '2', superStream: 'invoices' })).toEqual(['invoices-2']);
    await expect(c.partitionsQuery({ superStream: 'nothing' })).rejects.toThrow();
    const publisher = await c.declareSuperStreamPublisher({ superStream: 'invoices', routingStrategy: 'key' }, (_content, options) => String(options.applicationProperties?.partition));
    for (let i = 0; i < 9; i++) await publisher.send(Buffer.from(`invoice ${i}`), { applicationProperties: { partition: String(i % 3) } });
    for (let p = 0; p < 3; p++) {
      const stats = await waitForStats(c, `invoices-${p}`, 2n);
      expect(stats).toBe(2n);
    }
    const seen: Message[] = [];
    const consumer = await c.declareSuperStreamConsumer({ superStream: 'invoices', offset: Offset.first() }, (m) => void seen.push(m));
    await waitFor(() => seen.length === 9);
    expect(seen.map((m) => m.content.toString()).sort()).toEqual([...Array(9).keys()].map((i) => `invoice ${i}`));
    await consumer.close();
    await publisher.close();
    await c.deleteSuperStream({ streamName: 'invoices' });
    await expect(c.partitionsQuery({ superStream: 'invoices' })).rejects.toThrow();
  });

  it('single active consumer: one member of a group consumes, the next takes over where the group stored its offset', async () => {
    broker = await startStream();
    const c = await client();
    await c.createStream({ stream: 'sac', arguments: {} });
    const publisher = await c.declarePublisher({ stream: 'sac' });
    for (let i = 0; i < 4; i++) await publisher.send(Buffer.from(`a${i}`));
    await publisher.flush();
    const first: string[] = [];
    const second: string[] = [];
    const params = { stream: 'sac', offset: Offset.first(), singleActive: true, consumerRef: 'workers' };
    const one = await c.declareConsumer(params, (m) => void first.push(m.content.toString()));
    const other = await client();
    await other.declareConsumer(
      { ...params, consumerUpdateListener: async (reference: string, stream: string) => Offset.offset((await other.queryOffset({ reference, stream })) + 1n) },
      (m) => void second.push(m.content.toString()),
    );
    await waitFor(() => first.length === 4);
    await sleep(200);
    expect(second).toEqual([]);
    await one.storeOffset(3n);
    await waitFor(async () => (await c.queryOffset({ reference: 'workers', stream: 'sac' }).catch(() => -1n)) === 3n);
    await one.close();
    for (let i = 0; i < 2; i++) await publisher.send(Buffer.from(`b${i}`));
    await publisher.flush();
    await waitFor(() => second.length === 2);
    expect(second).toEqual(['b0', 'b1']);
  });

  it('tells a consumer its stream was deleted (MetadataUpdate, stream not available)', async () => {
    broker = await startStream();
    const wire = await StreamWire.connect(broker.port);
    expect(await open(wire)).toBe(1);
    wire.send(request(0x0d, 5, str('vanishing'), int32(0)));
    expect(codeOf((await wire.frame())!)).toBe(1);
    // Subscribe: id 1, stream, offset type first, credit 10, no properties
    wire.send(request(0x07, 6, Buffer.from([1]), str('vanishing'), Buffer.from([0, 1, 0, 10]), int32(0)));
    expect(codeOf((await wire.frame())!)).toBe(1);
    wire.send(request(0x0e, 7, str('vanishing')));
    const frames: Buffer[] = [];
    for (let i = 0; i < 2; i++) frames.push((await wire.frame())!);
    const update = frames.find((f) => f.readUInt16BE(0) === 0x10)!;
    expect(update.readUInt16BE(4)).toBe(0x06);
    expect(update.toString('utf8', 8, 8 + update.readUInt16BE(6))).toBe('vanishing');
    expect(codeOf(frames.find((f) => f.readUInt16BE(0) === 0x800e)!)).toBe(1);
    wire.close();
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

async function waitForSequence(publisher: { getLastPublishingId(): Promise<bigint> }, wanted: bigint): Promise<bigint> {
  await waitFor(async () => (await publisher.getLastPublishingId()) === wanted);
  return wanted;
}

async function waitForStats(c: Client, stream: string, committed: bigint): Promise<bigint> {
  await waitFor(async () => (await c.streamStatsRequest(stream)).committedChunkId === committed);
  return committed;
}
