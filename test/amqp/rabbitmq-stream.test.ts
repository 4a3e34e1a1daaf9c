import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { describeDifferential, type DifferentialCase } from '../helpers/amqp-differential.ts';

/**
 * Stream queues over AMQP 0-9-1, run with amqplib against Wharf and, where Debian's rabbitmq-server is
 * installed, against RabbitMQ 3.10.8 in the same run: both must give the answer written here.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const stream = { 'x-queue-type': 'stream' };

/** 'ok', or how the channel or connection closed: code and RabbitMQ's text. */
async function outcome(connect: () => Promise<ChannelModel>, steps: (ch: ConfirmChannel) => Promise<unknown>): Promise<string> {
  const connection = await connect();
  let closedWith: unknown;
  connection.on('error', (err: unknown) => (closedWith = err));
  const ch = await connection.createConfirmChannel();
  ch.on('error', () => undefined);
  try {
    await steps(ch);
    if (closedWith === undefined) return 'ok';
    throw closedWith;
  } catch (err) {
    if (/Channel ended|Channel closed/.test((err as Error).message)) for (let i = 0; i < 50 && closedWith === undefined; i++) await sleep(10);
    const e = (closedWith ?? err) as { code?: number; message: string };
    const text = /with message "(.*)"$/s.exec(e.message)?.[1] ?? e.message;
    return `${e.code} ${text}`;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Declares the stream and publishes `bodies` one confirm at a time (one chunk each). */
async function filled(ch: ConfirmChannel, id: string, bodies: string[], options: amqp.Options.Publish = {}): Promise<void> {
  await ch.assertQueue(id, { durable: true, arguments: stream });
  for (const body of bodies) {
    ch.sendToQueue(id, Buffer.from(body), options);
    await ch.waitForConfirms();
  }
}

/** What a consumer with `prefetch` got within `waitMs` (acking each when `ack`), as body@offset. */
async function consumed(ch: Channel, id: string, prefetch: number, args: Record<string, unknown>, count: number, ack = true, waitMs = 3000): Promise<ConsumeMessage[]> {
  await ch.prefetch(prefetch);
  const got: ConsumeMessage[] = [];
  const { consumerTag } = await ch.consume(id, (m) => {
    if (!m) return;
    got.push(m);
    if (ack) ch.ack(m);
  }, { noAck: false, arguments: args });
  for (const until = Date.now() + waitMs; got.length < count && Date.now() < until; ) await sleep(20);
  await sleep(150); // anything more that would come
  await ch.cancel(consumerTag);
  return got;
}

const show = (ms: ConsumeMessage[]) => ms.map((m) => `${m.content.toString()}@${String(m.properties.headers?.['x-stream-offset'])}`).join(' ');
const cleanup = async (ch: Channel, id: string) => void (await ch.deleteQueue(id));

const declared = (args: Record<string, unknown>, options: amqp.Options.AssertQueue = { durable: true }) => (c: () => Promise<ChannelModel>, id: string) => outcome(c, (ch) => ch.assertQueue(id, { ...options, arguments: { ...stream, ...args } }));

const CASES: DifferentialCase[] = [
  { name: 'a stream must be durable', run: declared({}, { durable: false }), expected: "406 PRECONDITION_FAILED - invalid property 'non-durable' for queue 'Q' in vhost '/'" },
  { name: 'a stream cannot be exclusive', run: declared({}, { durable: true, exclusive: true }), expected: "406 PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue 'Q' in vhost '/'" },
  { name: 'a stream cannot auto-delete', run: declared({}, { durable: true, autoDelete: true }), expected: "406 PRECONDITION_FAILED - invalid property 'auto-delete' for queue 'Q' in vhost '/'" },
  { name: 'a stream cannot be server-named', run: (c) => outcome(c, (ch) => ch.assertQueue('', { durable: true, arguments: stream })), expected: '406 PRECONDITION_FAILED - Cannot declare a server-named queue for type rabbit_stream_queue' },
  { name: 'x-max-priority is refused on a stream', run: declared({ 'x-max-priority': 5 }), expected: "406 PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'Q' in vhost '/' of queue type rabbit_stream_queue" },
  { name: 'x-message-ttl is refused on a stream', run: declared({ 'x-message-ttl': 5 }), expected: "406 PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'Q' in vhost '/' of queue type rabbit_stream_queue" },
  { name: 'a bad x-max-age', run: declared({ 'x-max-age': '7X' }), expected: "406 PRECONDITION_FAILED - invalid arg 'x-max-age' for queue 'Q' in vhost '/': invalid_max_age" },
  { name: 'x-max-age must be a string', run: declared({ 'x-max-age': 7 }), expected: "406 PRECONDITION_FAILED - invalid arg 'x-max-age' for queue 'Q' in vhost '/': {unacceptable_type,byte}" },
  { name: 'a segment size above the maximum', run: declared({ 'x-stream-max-segment-size-bytes': 4_000_000_000 }), expected: '406 PRECONDITION_FAILED - Exceeded max value for x-stream-max-segment-size-bytes' },
  {
    name: 'a stream with retention and segment arguments, redeclared with another x-max-age',
    run: (c, id) =>
      outcome(c, async (ch) => {
        await ch.assertQueue(id, { durable: true, arguments: { ...stream, 'x-max-age': '7D', 'x-max-length-bytes': 20_000_000, 'x-stream-max-segment-size-bytes': 1_000_000, 'x-queue-leader-locator': 'balanced' } });
        await ch.checkQueue(id);
        try {
          await ch.assertQueue(id, { durable: true, arguments: { ...stream, 'x-max-age': '1D', 'x-max-length-bytes': 20_000_000, 'x-stream-max-segment-size-bytes': 1_000_000, 'x-queue-leader-locator': 'balanced' } });
        } finally {
          const connection = await c();
          await cleanup(await connection.createChannel(), id);
          await connection.close();
        }
      }),
    expected: "406 PRECONDITION_FAILED - inequivalent arg 'x-max-age' for queue 'Q' in vhost '/': received '1D' but current is '7D'",
  },
  {
    name: 'consuming needs a prefetch',
    run: (c, id) => outcome(c, async (ch) => {
      await ch.assertQueue(id, { durable: true, arguments: stream });
      try {
        await ch.consume(id, () => undefined, { noAck: false });
      } finally {
        const connection = await c();
        await cleanup(await connection.createChannel(), id);
        await connection.close();
      }
    }),
    expected: "406 PRECONDITION_FAILED - consumer prefetch count is not set for 'queue 'Q' in vhost '/''",
  },
  ...(
    [
      ['a no-ack consumer is refused', async (ch: Channel, id: string) => ch.consume(id, () => undefined, { noAck: true }), "540 NOT_IMPLEMENTED - automatic acknowledgement not supported by stream queues queue 'Q' in vhost '/'"],
      ['basic.get is refused', async (ch: Channel, id: string) => ch.get(id, { noAck: false }), "540 NOT_IMPLEMENTED - basic.get not supported by stream queues queue 'Q' in vhost '/'"],
      ['queue.purge is refused', async (ch: Channel, id: string) => ch.purgeQueue(id), "540 NOT_IMPLEMENTED - queue.purge not supported by stream queues queue 'Q' in vhost '/'"],
      [
        'global qos is refused',
        async (ch: Channel, id: string) => {
          await ch.prefetch(10);
          await ch.prefetch(10, true);
          await ch.consume(id, () => undefined, { noAck: false });
        },
        "540 NOT_IMPLEMENTED - queue 'Q' in vhost '/' does not support global qos",
      ],
      [
        'nack is refused',
        async (ch: Channel, id: string) => {
          await ch.consume(id, (m) => m && ch.nack(m, false, false), { noAck: false, arguments: { 'x-stream-offset': 'first' } });
          await sleep(2000);
        },
        "540 NOT_IMPLEMENTED - basic.nack and basic.reject not supported by stream queues queue 'Q' in vhost '/'",
      ],
      [
        'reject is refused',
        async (ch: Channel, id: string) => {
          await ch.consume(id, (m) => m && ch.reject(m, true), { noAck: false, arguments: { 'x-stream-offset': 'first' } });
          await sleep(2000);
        },
        "540 NOT_IMPLEMENTED - basic.nack and basic.reject not supported by stream queues queue 'Q' in vhost '/'",
      ],
    ['a bad x-stream-offset (RabbitMQ 3.10.8 crashes the channel)', async (ch: Channel, id: string) => ch.consume(id, () => undefined, { noAck: false, arguments: { 'x-stream-offset': 'abc' } }), '541 INTERNAL_ERROR'],
    ] as const
  ).map(([name, act, expected]): DifferentialCase => ({
    name,
    run: async (c, id) => {
      const setup = await c();
      await filled(await setup.createConfirmChannel(), id, ['m0']);
      await setup.close();
      const answer = await outcome(c, async (ch) => {
        if (!name.startsWith('global')) await ch.prefetch(10);
        await act(ch, id);
      });
      const teardown = await c();
      await cleanup(await teardown.createChannel(), id);
      await teardown.close();
      return answer;
    },
    expected,
  })),
  ...(
    [
      ['from first', { 'x-stream-offset': 'first' }, 3, 'm0@0 m1@1 m2@2'],
      ['from offset 1', { 'x-stream-offset': 1 }, 2, 'm1@1 m2@2'],
      ['from offset 99 (past the end)', { 'x-stream-offset': 99 }, 0, ''],
      ['from last (the last chunk)', { 'x-stream-offset': 'last' }, 1, 'm2@2'],
      ['from next (nothing yet)', {}, 0, ''],
      ['from an interval', { 'x-stream-offset': '1h' }, 3, 'm0@0 m1@1 m2@2'],
      ['from a timestamp a minute ago', { 'x-stream-offset': { '!': 'timestamp', value: 'NOW-60' } }, 3, 'm0@0 m1@1 m2@2'],
      ['from a timestamp in the future', { 'x-stream-offset': { '!': 'timestamp', value: 'NOW+3600' } }, 0, ''],
    ] as const
  ).map(([name, args, count, expected]): DifferentialCase => ({
    name: `consume ${name}`,
    run: async (c, id) => {
      const connection = await c();
      const ch = await connection.createConfirmChannel();
      await filled(ch, id, ['m0', 'm1', 'm2']);
      const offset = (args as Record<string, unknown>)['x-stream-offset'] as { value: string } | undefined;
      const now = Math.floor(Date.now() / 1000);
      const resolved = typeof offset?.value === 'string' ? { 'x-stream-offset': { '!': 'timestamp', value: now + Number(offset.value.slice(3)) } } : args;
      const got = await consumed(ch, id, 10, resolved, count);
      await cleanup(ch, id);
      await connection.close();
      return show(got);
    },
    expected,
  })),
  {
    name: 'a consumer from next gets what is published after it, with the exchange and routing key',
    run: async (c, id) => {
      const connection = await c();
      const ch = await connection.createConfirmChannel();
      await filled(ch, id, ['old']);
      await ch.assertExchange(`${id}-x`, 'fanout', { durable: false, autoDelete: false });
      await ch.bindQueue(id, `${id}-x`, '');
      await ch.prefetch(10);
      const got: ConsumeMessage[] = [];
      await ch.consume(id, (m) => m && (got.push(m), ch.ack(m)), { noAck: false });
      await sleep(300);
      ch.publish(`${id}-x`, 'some-key', Buffer.from('new'));
      await ch.waitForConfirms();
      for (const until = Date.now() + 3000; got.length < 1 && Date.now() < until; ) await sleep(20);
      await cleanup(ch, id);
      await ch.deleteExchange(`${id}-x`);
      await connection.close();
      return got.map((m) => `${show([m])} via ${m.fields.exchange}/${m.fields.routingKey} redelivered ${m.fields.redelivered}`).join(' ');
    },
    expected: 'new@1 via Q-x/some-key redelivered false',
  },
  {
    name: 'prefetch is credit: 2 of 4 arrive without acks, an ack lets one more come',
    run: async (c, id) => {
      const connection = await c();
      const ch = await connection.createConfirmChannel();
      await filled(ch, id, ['m0', 'm1', 'm2', 'm3']);
      await ch.prefetch(2);
      const got: ConsumeMessage[] = [];
      await ch.consume(id, (m) => m && got.push(m), { noAck: false, arguments: { 'x-stream-offset': 'first' } });
      await sleep(500);
      const before = show(got);
      ch.ack(got[0]!);
      await sleep(500);
      const after = show(got);
      await cleanup(ch, id);
      await connection.close();
      return `${before} | ${after}`;
    },
    expected: 'm0@0 m1@1 | m0@0 m1@1 m2@2',
  },
  {
    name: 'properties and headers come back, with x-stream-offset as a long',
    run: async (c, id) => {
      const connection = await c();
      const ch = await connection.createConfirmChannel();
      await filled(ch, id, ['body'], {
        headers: { s: 'text', n: 42, big: 5_000_000_000, t: true },
        contentType: 'text/plain',
        contentEncoding: 'gzip',
        messageId: 'id-1',
        correlationId: 'c-1',
        replyTo: 'back',
        timestamp: 1_700_000_000,
        type: 'kind',
        appId: 'app',
        deliveryMode: 2,
        priority: 3,
        expiration: '60000',
        userId: 'guest',
      });
      const [m] = await consumed(ch, id, 10, { 'x-stream-offset': 'first' }, 1);
      await cleanup(ch, id);
      await connection.close();
      const { headers, ...properties } = m!.properties;
      const sorted = Object.fromEntries(Object.entries(headers ?? {}).sort(([a], [b]) => a.localeCompare(b)));
      const defined = Object.fromEntries(Object.entries(properties).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)));
      return JSON.stringify({ headers: sorted, properties: defined });
    },
    expected:
      '{"headers":{"big":5000000000,"n":42,"s":"text","t":true,"x-stream-offset":0},"properties":{"appId":"app","contentEncoding":"gzip","contentType":"text/plain","correlationId":"c-1","deliveryMode":2,"expiration":"60000","messageId":"id-1","priority":3,"replyTo":"back","timestamp":1700000000,"type":"kind","userId":"guest"}}',
  },
];

describeDifferential('stream queues over AMQP 0-9-1, as RabbitMQ 3.10.8', 'sq', CASES);
