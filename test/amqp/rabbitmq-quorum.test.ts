import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { describeDifferential, type DifferentialCase } from '../helpers/amqp-differential.ts';

/**
 * Quorum queues, consumer priorities, single active consumer and direct reply-to, run with amqplib against
 * Wharf and, where Debian's rabbitmq-server is installed, against RabbitMQ 3.10.8 in the same run: both must
 * give the answer written here. `rabbitmq` holds RabbitMQ's answer where Wharf differs on purpose.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quorum = { 'x-queue-type': 'quorum' };
/** Both brokers' dead_letter_worker_publisher_confirm_timeout here (RabbitMQ's default is 3 minutes). */
const DEAD_LETTER_SETTLE_TIMEOUT_MS = 2000;

/** 'ok', or how the channel or connection closed: code and RabbitMQ's text. */
async function outcome(connect: () => Promise<ChannelModel>, steps: (ch: Channel) => Promise<unknown>): Promise<string> {
  const connection = await connect();
  let closedWith: unknown;
  connection.on('error', (err: unknown) => (closedWith = err));
  const ch = await connection.createChannel();
  ch.on('error', () => undefined);
  try {
    await steps(ch);
    return 'ok';
  } catch (err) {
    // A connection error ends the channel's pending call: the reason is the connection's.
    if (/Channel ended/.test((err as Error).message)) for (let i = 0; i < 50 && closedWith === undefined; i++) await sleep(10);
    const e = (closedWith ?? err) as { code?: number; message: string };
    const text = /with message "(.*)"$/s.exec(e.message)?.[1] ?? e.message;
    return `${e.code} ${text}`;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Runs `steps` on a fresh channel and closes the connection after. */
async function withChannel<T>(connect: () => Promise<ChannelModel>, steps: (ch: Channel, connection: ChannelModel) => Promise<T>): Promise<T> {
  const connection = await connect();
  try {
    return await steps(await connection.createChannel(), connection);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function getOne(ch: Channel, queue: string, noAck = false, waitMs = 3000): Promise<amqp.GetMessage | false> {
  for (const until = Date.now() + waitMs; ; await sleep(20)) {
    const got = await ch.get(queue, { noAck });
    if (got || Date.now() > until) return got;
  }
}

/** Publishes one message on a confirm channel: 'ack' or 'nack'. */
const confirmed = (ch: amqp.ConfirmChannel, queue: string, body: string) =>
  new Promise<string>((resolve) => ch.sendToQueue(queue, Buffer.from(body), {}, (err) => resolve(err ? 'nack' : 'ack')));

/**
 * A quorum queue `id` dead-lettering at least once through the fanout `id-dlx` to `id-full`, which holds a
 * message and refuses more (and to `also`, if given); its message 'm' rejected, so refused by `id-full`.
 * The publisher confirms, as 'ack' or 'nack'.
 */
async function deadLetterToFullTarget(ch: amqp.ConfirmChannel, id: string, also?: string): Promise<string[]> {
  await ch.assertExchange(`${id}-dlx`, 'fanout', { durable: false });
  await ch.assertQueue(`${id}-full`, { durable: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
  if (also !== undefined) await ch.assertQueue(also, { durable: true });
  for (const target of [`${id}-full`, ...(also === undefined ? [] : [also])]) await ch.bindQueue(target, `${id}-dlx`, '');
  await ch.assertQueue(id, { durable: true, arguments: { ...quorum, 'x-overflow': 'reject-publish', 'x-dead-letter-strategy': 'at-least-once', 'x-dead-letter-exchange': `${id}-dlx` } });
  const answers = [await confirmed(ch, `${id}-full`, 'filler'), await confirmed(ch, id, 'm')];
  ch.reject((await getOne(ch, id)) as amqp.GetMessage, false);
  await sleep(200); // refused by the full target
  return answers;
}

const headersOf = (m: { properties: { headers?: Record<string, unknown> } }) => JSON.stringify(m.properties.headers ?? {});
const deathOf = (m: { properties: { headers?: Record<string, unknown> } }) => {
  const h = m.properties.headers ?? {};
  const [death] = h['x-death'] as Array<Record<string, unknown>>;
  return `reason ${String(death!.reason)} queue ${String(death!.queue)} count ${String(death!.count)} first ${String(h['x-first-death-reason'])}`;
};

const CASES: DifferentialCase[] = [
  // Declaring: the properties and arguments a quorum queue refuses, in RabbitMQ's words.
  { name: 'a quorum queue must be durable', run: (c, id) => outcome(c, (ch) => ch.assertQueue(id, { durable: false, arguments: quorum })), expected: "406 PRECONDITION_FAILED - invalid property 'non-durable' for queue 'Q' in vhost '/'" },
  { name: 'a quorum queue cannot auto-delete', run: (c, id) => outcome(c, (ch) => ch.assertQueue(id, { durable: true, autoDelete: true, arguments: quorum })), expected: "406 PRECONDITION_FAILED - invalid property 'auto-delete' for queue 'Q' in vhost '/'" },
  { name: 'a quorum queue cannot be exclusive', run: (c, id) => outcome(c, (ch) => ch.assertQueue(id, { durable: true, exclusive: true, arguments: quorum })), expected: "406 PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue 'Q' in vhost '/'" },
  { name: 'a quorum queue cannot be server-named', run: (c) => outcome(c, (ch) => ch.assertQueue('', { durable: true, arguments: quorum })), expected: '406 PRECONDITION_FAILED - Cannot declare a server-named queue for type rabbit_quorum_queue' },
  { name: 'x-max-priority is refused on a quorum queue', run: (c, id) => outcome(c, (ch) => ch.assertQueue(id, { durable: true, arguments: { ...quorum, 'x-max-priority': 5 } })), expected: "406 PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'Q' in vhost '/' of queue type rabbit_quorum_queue" },
  { name: 'x-queue-mode is refused on a quorum queue', run: (c, id) => outcome(c, (ch) => ch.assertQueue(id, { durable: true, arguments: { ...quorum, 'x-queue-mode': 'lazy' } })), expected: "406 PRECONDITION_FAILED - invalid arg 'x-queue-mode' for queue 'Q' in vhost '/' of queue type rabbit_quorum_queue" },
  {
    name: 'quorum arguments accepted: overflow modes, dead-letter strategy, group size, delivery limit, in-memory limits, leader locator',
    run: (c, id) =>
      outcome(c, async (ch) => {
        await ch.assertQueue(`${id}-1`, { durable: true, arguments: { ...quorum, 'x-overflow': 'reject-publish', 'x-dead-letter-strategy': 'at-least-once', 'x-quorum-initial-group-size': 3, 'x-delivery-limit': 5 } });
        await ch.assertQueue(`${id}-2`, { durable: true, arguments: { ...quorum, 'x-overflow': 'drop-head', 'x-max-in-memory-length': 10, 'x-max-in-memory-bytes': 1000, 'x-queue-leader-locator': 'balanced' } });
        await ch.assertQueue(`${id}-3`, { durable: true, arguments: { ...quorum, 'x-overflow': 'reject-publish-dlx', 'x-single-active-consumer': true, 'x-message-ttl': 1000, 'x-expires': 60000 } });
        for (const n of [1, 2, 3]) await ch.deleteQueue(`${id}-${n}`);
      }),
    expected: 'ok',
  },
  { name: 'an unknown dead-letter strategy', run: (c, id) => outcome(c, (ch) => ch.assertQueue(id, { durable: true, arguments: { ...quorum, 'x-dead-letter-strategy': 'sometimes' } })), expected: "406 PRECONDITION_FAILED - invalid arg 'x-dead-letter-strategy' for queue 'Q' in vhost '/': invalid_dlx_strategy" },
  { name: 'an initial group size of zero', run: (c, id) => outcome(c, (ch) => ch.assertQueue(id, { durable: true, arguments: { ...quorum, 'x-quorum-initial-group-size': 0 } })), expected: "406 PRECONDITION_FAILED - invalid arg 'x-quorum-initial-group-size' for queue 'Q' in vhost '/': {value_zero,0}" },
  { name: 'an unknown leader locator', run: (c, id) => outcome(c, (ch) => ch.assertQueue(id, { durable: true, arguments: { ...quorum, 'x-queue-leader-locator': 'nearest' } })), expected: "406 PRECONDITION_FAILED - invalid arg 'x-queue-leader-locator' for queue 'Q' in vhost '/': invalid_queue_locator_arg" },
  { name: 'x-delivery-limit is refused on a classic queue', run: (c, id) => outcome(c, (ch) => ch.assertQueue(id, { durable: true, arguments: { 'x-delivery-limit': 5 } })), expected: "406 PRECONDITION_FAILED - invalid arg 'x-delivery-limit' for queue 'Q' in vhost '/' of queue type rabbit_classic_queue" },
  {
    name: 'redeclaring a quorum queue without its type',
    run: (c, id) =>
      outcome(c, async (ch) => {
        await ch.assertQueue(id, { durable: true, arguments: quorum });
        await ch.assertQueue(id, { durable: true });
      }),
    expected: "406 PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'Q' in vhost '/': received none but current is the value 'quorum' of type 'longstr'",
  },
  {
    name: 'redeclaring a quorum queue with another delivery limit',
    run: (c, id) =>
      outcome(c, async (ch) => {
        await ch.assertQueue(id, { durable: true, arguments: { ...quorum, 'x-delivery-limit': 3 } });
        await ch.assertQueue(id, { durable: true, arguments: quorum });
      }),
    expected: "406 PRECONDITION_FAILED - inequivalent arg 'x-delivery-limit' for queue 'Q' in vhost '/': received none but current is the value '3' of type 'byte'",
  },
  // Consuming.
  {
    name: 'global qos is refused by a quorum queue',
    run: (c, id) =>
      outcome(c, async (ch) => {
        await ch.assertQueue(id, { durable: true, arguments: quorum });
        await ch.prefetch(10, true);
        await ch.consume(id, () => undefined);
      }),
    expected: "540 NOT_IMPLEMENTED - queue 'Q' in vhost '/' does not support global qos",
  },
  {
    name: 'x-cancel-on-ha-failover is a classic consumer argument',
    run: (c, id) =>
      outcome(c, async (ch) => {
        await ch.assertQueue(id, { durable: true, arguments: quorum });
        await ch.consume(id, () => undefined, { arguments: { 'x-cancel-on-ha-failover': true } });
      }),
    expected: "406 PRECONDITION_FAILED - invalid arg 'x-cancel-on-ha-failover' for queue 'Q' in vhost '/' of queue type rabbit_quorum_queue",
  },
  {
    name: 'exclusive consumers are not enforced on a quorum queue',
    run: (c, id) =>
      outcome(c, async (ch) => {
        await ch.assertQueue(id, { durable: true, arguments: quorum });
        await ch.consume(id, () => undefined, { exclusive: true });
        await ch.consume(id, () => undefined, { exclusive: true });
        await ch.consume(id, () => undefined);
        await ch.deleteQueue(id);
      }),
    expected: 'ok',
  },
  {
    name: 'a quorum consumer without a prefetch limit holds at most 2000 unacked messages',
    run: (c, id) =>
      withChannel(c, async (ch) => {
        await ch.assertQueue(id, { durable: true, arguments: quorum });
        for (let i = 0; i < 2100; i++) ch.sendToQueue(id, Buffer.from('m'));
        let unacked = 0;
        await ch.consume(id, (m) => m && unacked++);
        for (let last = -1; unacked !== last; ) {
          last = unacked;
          await sleep(500);
        }
        const answer = `${unacked} unacked`;
        await ch.deleteQueue(id);
        return answer;
      }),
    expected: '2000 unacked',
  },
  {
    name: 'x-delivery-count: absent on the first delivery, the number of returns after; basic.get always tells it',
    run: (c, id) =>
      withChannel(c, async (ch) => {
        await ch.assertQueue(id, { durable: true, arguments: quorum });
        ch.sendToQueue(id, Buffer.from('m'), { headers: { zz: 1, a: 'x' } });
        const seen: string[] = [];
        const first = (await getOne(ch, id)) as amqp.GetMessage;
        seen.push(`get ${first.fields.redelivered} ${headersOf(first)}`);
        ch.nack(first, false, true);
        await new Promise<void>((resolve) => {
          void ch.consume(id, (m) => {
            if (!m) return;
            seen.push(`deliver ${m.fields.redelivered} ${headersOf(m)}`);
            if (seen.length < 3) ch.nack(m, false, true);
            else {
              ch.ack(m);
              resolve();
            }
          });
        });
        await ch.deleteQueue(id);
        return seen.join('; ');
      }),
    expected: 'get false {"a":"x","x-delivery-count":0,"zz":1}; deliver true {"a":"x","x-delivery-count":1,"zz":1}; deliver true {"a":"x","x-delivery-count":2,"zz":1}',
  },
  {
    name: 'x-delivery-limit 2: the third return dead-letters with reason delivery_limit',
    run: (c, id) =>
      withChannel(c, async (ch) => {
        await ch.assertQueue(`${id}-dead`, { durable: true });
        await ch.assertQueue(id, { durable: true, arguments: { ...quorum, 'x-delivery-limit': 2, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': `${id}-dead` } });
        ch.sendToQueue(id, Buffer.from('poison'));
        let deliveries = 0;
        const { consumerTag } = await ch.consume(id, (m) => {
          deliveries++;
          if (m) ch.nack(m, false, true);
        });
        const dead = (await getOne(ch, `${id}-dead`, true, 5000)) as amqp.GetMessage;
        await ch.cancel(consumerTag);
        const left = (await ch.checkQueue(id)).messageCount;
        await ch.deleteQueue(id);
        await ch.deleteQueue(`${id}-dead`);
        return `${deliveries} deliveries, ${left} left; ${dead ? deathOf(dead) : 'nothing dead-lettered'}`;
      }),
    expected: '3 deliveries, 0 left; reason delivery_limit queue Q count 1 first delivery_limit',
  },
  {
    name: 'no x-delivery-limit: RabbitMQ 4 dead-letters after 20 returns (RabbitMQ 3.10 never does)',
    run: (c, id) =>
      withChannel(c, async (ch) => {
        await ch.assertQueue(`${id}-dead`, { durable: true });
        await ch.assertQueue(id, { durable: true, arguments: { ...quorum, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': `${id}-dead` } });
        ch.sendToQueue(id, Buffer.from('poison'));
        let returns = 0;
        for (; returns < 25; returns++) {
          const m = await getOne(ch, id, false, 500);
          if (!m) break;
          ch.nack(m, false, true);
        }
        const dead = await getOne(ch, `${id}-dead`, true, 1000);
        await ch.deleteQueue(id);
        await ch.deleteQueue(`${id}-dead`);
        return `${returns} returns; ${dead ? deathOf(dead) : 'nothing dead-lettered'}`;
      }),
    expected: '21 returns; reason delivery_limit queue Q count 1 first delivery_limit',
    rabbitmq: '25 returns; nothing dead-lettered',
  },
  {
    name: 'rejected without requeue from a quorum queue: dead-lettered as rejected',
    run: (c, id) =>
      withChannel(c, async (ch) => {
        await ch.assertQueue(`${id}-dead`, { durable: true });
        await ch.assertQueue(id, { durable: true, arguments: { ...quorum, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': `${id}-dead` } });
        ch.sendToQueue(id, Buffer.from('m'));
        ch.reject((await getOne(ch, id)) as amqp.GetMessage, false);
        const dead = (await getOne(ch, `${id}-dead`, true)) as amqp.GetMessage;
        await ch.deleteQueue(id);
        await ch.deleteQueue(`${id}-dead`);
        return deathOf(dead);
      }),
    expected: 'reason rejected queue Q count 1 first rejected',
  },
  {
    name: 'reject-publish on a quorum queue: takes messages until over the limit, then refuses them',
    run: (c, id) =>
      withChannel(c, async (_, connection) => {
        const ch = await connection.createConfirmChannel();
        await ch.assertQueue(id, { durable: true, arguments: { ...quorum, 'x-max-length': 2, 'x-overflow': 'reject-publish' } });
        const answers = [];
        for (let i = 1; i <= 5; i++) answers.push(await confirmed(ch, id, String(i)));
        const ready = (await ch.checkQueue(id)).messageCount;
        await ch.deleteQueue(id);
        return `${answers.join(' ')}; ${ready} ready`;
      }),
    expected: 'ack ack ack nack nack; 3 ready',
  },
  {
    name: 'at-least-once dead-lettering: an unroutable dead letter stays and counts toward the limit',
    run: (c, id) =>
      withChannel(c, async (_, connection) => {
        const ch = await connection.createConfirmChannel();
        await ch.assertExchange(`${id}-dlx`, 'direct', { durable: false });
        await ch.assertQueue(id, { durable: true, arguments: { ...quorum, 'x-max-length': 1, 'x-overflow': 'reject-publish', 'x-dead-letter-strategy': 'at-least-once', 'x-dead-letter-exchange': `${id}-dlx` } });
        const answers = [await confirmed(ch, id, '1')];
        ch.reject((await getOne(ch, id)) as amqp.GetMessage, false);
        await sleep(100);
        for (const body of ['2', '3']) answers.push(await confirmed(ch, id, body));
        const ready = (await ch.checkQueue(id)).messageCount;
        await ch.deleteQueue(id);
        await ch.deleteExchange(`${id}-dlx`);
        return `${answers.join(' ')}; ${ready} ready`;
      }),
    expected: 'ack ack nack; 1 ready',
  },
  {
    name: 'at-least-once dead-lettering: a dead letter its full target refused is published again when the settle timeout passed, not before',
    run: (c, id) =>
      withChannel(c, async (_, connection) => {
        const ch = await connection.createConfirmChannel();
        const answers = await deadLetterToFullTarget(ch, id);
        const rejectedAt = Date.now();
        ch.ack((await getOne(ch, `${id}-full`)) as amqp.GetMessage);
        await sleep(DEAD_LETTER_SETTLE_TIMEOUT_MS / 2);
        const early = (await ch.checkQueue(`${id}-full`)).messageCount;
        const late = await getOne(ch, `${id}-full`, false, 3 * DEAD_LETTER_SETTLE_TIMEOUT_MS);
        const waited = Date.now() - rejectedAt;
        const source = (await ch.checkQueue(id)).messageCount;
        for (const q of [id, `${id}-full`]) await ch.deleteQueue(q);
        await ch.deleteExchange(`${id}-dlx`);
        const timely = waited > DEAD_LETTER_SETTLE_TIMEOUT_MS / 2 && waited < 2 * DEAD_LETTER_SETTLE_TIMEOUT_MS;
        return `${answers.join(' ')}; target after ${DEAD_LETTER_SETTLE_TIMEOUT_MS / 2} ms: ${early}; then ${late ? late.content.toString() : 'nothing'}${timely ? ' within the settle timeout' : ` after ${waited} ms`}; source ${source}`;
      }),
    expected: 'ack ack; target after 1000 ms: 0; then m within the settle timeout; source 0',
  },
  {
    name: 'at-least-once dead-lettering: published again only to the target that refused it, not to one that stored it',
    run: (c, id) =>
      withChannel(c, async (_, connection) => {
        const ch = await connection.createConfirmChannel();
        await deadLetterToFullTarget(ch, id, `${id}-open`);
        ch.ack((await getOne(ch, `${id}-full`)) as amqp.GetMessage);
        await getOne(ch, `${id}-full`, true, 3 * DEAD_LETTER_SETTLE_TIMEOUT_MS);
        await sleep(DEAD_LETTER_SETTLE_TIMEOUT_MS + 500); // a later turn of the timer, if one would come
        const counts = [];
        for (const q of [id, `${id}-full`, `${id}-open`]) counts.push((await ch.checkQueue(q)).messageCount);
        for (const q of [id, `${id}-full`, `${id}-open`]) await ch.deleteQueue(q);
        await ch.deleteExchange(`${id}-dlx`);
        return `source ${counts[0]}, refusing target ${counts[1]} more, storing target ${counts[2]}`;
      }),
    expected: 'source 0, refusing target 0 more, storing target 1',
  },
  ...(['classic', 'quorum'] as const).map(
    (type): DifferentialCase => ({
      name: `messages nacked with requeue on a ${type} queue: ${type === 'quorum' ? 'back at the tail, in the order they came back' : 'back at their places'}`,
      run: (c, id) =>
        withChannel(c, async (ch) => {
          await ch.assertQueue(id, { durable: true, arguments: { 'x-queue-type': type } });
          for (const body of ['m1', 'm2', 'm3']) ch.sendToQueue(id, Buffer.from(body));
          const [m1, m2] = [(await getOne(ch, id)) as amqp.GetMessage, (await getOne(ch, id)) as amqp.GetMessage];
          ch.nack(m2, false, true);
          ch.nack(m1, false, true);
          const order = [];
          for (let i = 0; i < 3; i++) order.push(((await getOne(ch, id, true)) as amqp.GetMessage).content.toString());
          await ch.deleteQueue(id);
          return order.join(' ');
        }),
      expected: type === 'quorum' ? 'm3 m2 m1' : 'm1 m2 m3',
    }),
  ),
  ...(['classic', 'quorum'] as const).map(
    (type): DifferentialCase => ({
      name: `unacked messages of a closed channel on a ${type} queue: ${type === 'quorum' ? 'first, in the order they were delivered' : 'back at their places'}`,
      run: (c, id) =>
        withChannel(c, async (ch, connection) => {
          await ch.assertQueue(id, { durable: true, arguments: { 'x-queue-type': type } });
          for (const body of ['m1', 'm2', 'm3']) ch.sendToQueue(id, Buffer.from(body));
          const taker = await connection.createChannel();
          await getOne(taker, id);
          await getOne(taker, id);
          await taker.close();
          const order = [];
          for (let i = 0; i < 3; i++) {
            const m = (await getOne(ch, id, true)) as amqp.GetMessage;
            order.push(`${m.content.toString()}${m.fields.redelivered ? '*' : ''}`);
          }
          await ch.deleteQueue(id);
          return order.join(' ');
        }),
      expected: 'm1* m2* m3',
    }),
  ),
  // Consumer priorities and single active consumer.
  {
    name: 'consumer priorities: the higher consumer takes messages while it has credit, the lower only when it is blocked',
    run: (c, id) =>
      withChannel(c, async (ch, connection) => {
        await ch.assertQueue(id, { durable: true, arguments: quorum });
        const high = await connection.createChannel();
        const low = await connection.createChannel();
        await high.prefetch(2);
        await low.prefetch(10);
        const got: string[] = [];
        await low.consume(id, (m) => got.push(`low:${m!.content.toString()}`), { priority: 1 });
        await high.consume(id, (m) => got.push(`high:${m!.content.toString()}`), { priority: 10 });
        for (let i = 1; i <= 5; i++) ch.sendToQueue(id, Buffer.from(String(i)));
        for (const until = Date.now() + 3000; got.length < 5 && Date.now() < until; ) await sleep(20);
        await sleep(100);
        // Who got which (two channels' deliveries may arrive in either order).
        const answer = got.sort().join(' ');
        await high.close();
        await low.close();
        await ch.deleteQueue(id);
        return answer;
      }),
    expected: 'high:1 high:2 low:3 low:4 low:5',
  },
  {
    name: 'consumer priorities on a classic queue: equal priorities share round robin, a lower one gets nothing',
    run: (c, id) =>
      withChannel(c, async (ch, connection) => {
        await ch.assertQueue(id, { durable: false });
        const got: string[] = [];
        const consumers = await Promise.all(['a', 'b', 'low'].map(() => connection.createChannel()));
        await consumers[0]!.consume(id, (m) => m && got.push(`a:${m.content.toString()}`), { noAck: true, priority: 5 });
        await consumers[2]!.consume(id, (m) => m && got.push(`low:${m.content.toString()}`), { noAck: true, priority: -1 });
        await consumers[1]!.consume(id, (m) => m && got.push(`b:${m.content.toString()}`), { noAck: true, priority: 5 });
        for (let i = 1; i <= 4; i++) ch.sendToQueue(id, Buffer.from(String(i)));
        for (const until = Date.now() + 3000; got.length < 4 && Date.now() < until; ) await sleep(20);
        await sleep(100);
        const answer = got.sort().join(' ');
        await ch.deleteQueue(id);
        return answer;
      }),
    expected: 'a:1 a:3 b:2 b:4',
  },
  ...(['classic', 'quorum'] as const).map(
    (type): DifferentialCase => ({
      name: `single active consumer on a ${type} queue: the first consumer is active whatever the priorities`,
      run: (c, id) =>
        withChannel(c, async (ch, connection) => {
          await ch.assertQueue(id, { durable: true, arguments: { 'x-queue-type': type, 'x-single-active-consumer': true } });
          const got: string[] = [];
          const first = await connection.createChannel();
          const second = await connection.createChannel();
          await first.consume(id, (m) => m && got.push(`first:${m.content.toString()}`), { noAck: true, priority: 0 });
          await second.consume(id, (m) => m && got.push(`second:${m.content.toString()}`), { noAck: true, priority: 10 });
          for (let i = 1; i <= 3; i++) ch.sendToQueue(id, Buffer.from(String(i)));
          for (const until = Date.now() + 3000; got.length < 3 && Date.now() < until; ) await sleep(20);
          await first.close();
          ch.sendToQueue(id, Buffer.from('4'));
          for (const until = Date.now() + 3000; got.length < 4 && Date.now() < until; ) await sleep(20);
          const answer = got.join(' ');
          await ch.deleteQueue(id);
          return answer;
        }),
      expected: 'first:1 first:2 first:3 second:4',
    }),
  ),
  // Direct reply-to.
  { name: 'direct reply-to: the reply consumer must be no-ack', run: (c) => outcome(c, (ch) => ch.consume('amq.rabbitmq.reply-to', () => undefined, { noAck: false })), expected: '406 PRECONDITION_FAILED - reply consumer cannot acknowledge' },
  {
    name: 'direct reply-to: one reply consumer per channel',
    run: (c) =>
      outcome(c, async (ch) => {
        await ch.consume('amq.rabbitmq.reply-to', () => undefined, { noAck: true });
        await ch.consume('amq.rabbitmq.reply-to', () => undefined, { noAck: true });
      }),
    expected: '406 PRECONDITION_FAILED - reply consumer already set',
  },
  {
    name: 'direct reply-to: publishing a request with reply_to before consuming',
    run: (c, id) =>
      outcome(c, async (ch) => {
        ch.publish('', id, Buffer.from('req'), { replyTo: 'amq.rabbitmq.reply-to' });
        await ch.checkQueue('amq.rabbitmq.reply-to');
      }),
    expected: '406 PRECONDITION_FAILED - fast reply consumer does not exist',
  },
  {
    name: 'direct reply-to: request and reply round trip (reply_to rewritten, replies on the default exchange, the delivery tag not used up)',
    run: (c, id) =>
      withChannel(c, async (client, connection) => {
        const server = await connection.createChannel();
        await server.assertQueue(id, { durable: false, autoDelete: true });
        await server.consume(
          id,
          (request) => {
            if (!request) return;
            for (const n of [1, 2]) server.publish('', request.properties.replyTo as string, Buffer.from(`reply ${n} to ${request.content.toString()}`), { correlationId: request.properties.correlationId });
          },
          { noAck: true },
        );
        const replies: ConsumeMessage[] = [];
        await client.consume('amq.rabbitmq.reply-to', (m) => m && replies.push(m), { noAck: true });
        client.publish('', id, Buffer.from('ping'), { replyTo: 'amq.rabbitmq.reply-to', correlationId: 'c1' });
        for (const until = Date.now() + 3000; replies.length < 2 && Date.now() < until; ) await sleep(20);
        const name = replies[0]!.fields.routingKey;
        // Declared from another channel: RabbitMQ's channel cannot answer for its own reply queue (it crashes).
        const declared = await server.checkQueue(name);
        const lines = replies.map((m) => `${m.content.toString()} tag ${m.fields.deliveryTag} exchange '${m.fields.exchange}' redelivered ${m.fields.redelivered} correlation ${m.properties.correlationId}`);
        return `${lines.join('; ')}; key ${/^amq\.rabbitmq\.reply-to\.[^.]+\.[^.]+$/.test(name) ? 'amq.rabbitmq.reply-to.<channel>.<key>' : name}; declare-ok ${declared.messageCount}/${declared.consumerCount}`;
      }),
    expected:
      "reply 1 to ping tag 1 exchange '' redelivered false correlation c1; reply 2 to ping tag 1 exchange '' redelivered false correlation c1; key amq.rabbitmq.reply-to.<channel>.<key>; declare-ok 0/1",
  },
  {
    name: 'direct reply-to: a mandatory reply is delivered and also returned (no queue routed it)',
    run: (c, id) =>
      withChannel(c, async (client, connection) => {
        const server = await connection.createChannel();
        await server.assertQueue(id, { durable: false, autoDelete: false });
        const events: string[] = [];
        server.on('return', (m: amqp.Message) => {
          const fields = m.fields as amqp.MessageFields & { replyCode: number; replyText: string };
          events.push(`returned ${m.content.toString()} ${fields.replyCode} ${fields.replyText}`);
        });
        await client.consume('amq.rabbitmq.reply-to', (m) => m && events.push(`replied ${m.content.toString()}`), { noAck: true });
        client.publish('', id, Buffer.from('ping'), { replyTo: 'amq.rabbitmq.reply-to' });
        const request = (await getOne(server, id, true)) as amqp.GetMessage;
        server.publish('', request.properties.replyTo as string, Buffer.from('pong'), { mandatory: true });
        for (const until = Date.now() + 3000; events.length < 2 && Date.now() < until; ) await sleep(20);
        await server.deleteQueue(id);
        return events.sort().join('; ');
      }),
    expected: 'replied pong; returned pong 312 NO_ROUTE',
  },
  {
    name: 'direct reply-to: a reply after the requester cancelled is dropped',
    run: (c, id) =>
      withChannel(c, async (client, connection) => {
        const server = await connection.createChannel();
        await server.assertQueue(id, { durable: false, autoDelete: false });
        const replies: string[] = [];
        const { consumerTag } = await client.consume('amq.rabbitmq.reply-to', (m) => m && replies.push(m.content.toString()), { noAck: true });
        client.publish('', id, Buffer.from('ping'), { replyTo: 'amq.rabbitmq.reply-to' });
        const request = (await getOne(server, id, true)) as amqp.GetMessage;
        await client.cancel(consumerTag);
        server.publish('', request.properties.replyTo as string, Buffer.from('late'));
        await sleep(200);
        const gone = await outcome(c, (ch) => ch.checkQueue(request.properties.replyTo as string));
        await server.deleteQueue(id);
        return `${replies.length} replies; ${gone.replace(/reply-to\.[^']+/, 'reply-to.X')}`;
      }),
    expected: "0 replies; 404 NOT_FOUND - no queue 'amq.rabbitmq.reply-to.X' in vhost '/'",
  },
];

describeDifferential('quorum queues, consumer priorities, direct reply-to', 'qq', CASES, {
  wharf: { deadLetterWorkerPublisherConfirmTimeoutMs: DEAD_LETTER_SETTLE_TIMEOUT_MS },
  rabbitmq: { rabbitSettings: { dead_letter_worker_publisher_confirm_timeout: DEAD_LETTER_SETTLE_TIMEOUT_MS } },
});
