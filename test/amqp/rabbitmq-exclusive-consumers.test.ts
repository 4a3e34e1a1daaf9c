import type { Channel, ChannelModel } from 'amqplib';
import { describeDifferential, type DifferentialCase } from '../helpers/amqp-differential.ts';

/**
 * basic.consume exclusive=true on each queue type, run with amqplib against Wharf and RabbitMQ 3.10.8:
 * a classic queue refuses a second consumer beside an exclusive one (and an exclusive one beside others)
 * with 403; RabbitMQ 3.10.8's quorum and stream queues record the flag but do not enforce it, every
 * consumer getting deliveries.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Consuming {
  connection: ChannelModel;
  received: number;
  /** 'ok', or the channel's close: code and RabbitMQ's text. */
  answer: string;
}

/** A consumer on its own connection (prefetch 1, no acks, streams from the first offset); how basic.consume went. */
async function consumer(connect: () => Promise<ChannelModel>, id: string, type: string, exclusive: boolean): Promise<Consuming> {
  const connection = await connect();
  const ch: Channel = await connection.createChannel();
  let closed = '';
  ch.on('error', (err: Error) => (closed = err.message));
  await ch.prefetch(1);
  const c: Consuming = { connection, received: 0, answer: 'ok' };
  try {
    await ch.consume(id, (m) => void (m && c.received++), { exclusive, arguments: type === 'stream' ? { 'x-stream-offset': 'first' } : {} });
  } catch (err) {
    for (let i = 0; i < 50 && closed === ''; i++) await sleep(10);
    const text = closed || (err as Error).message;
    c.answer = `${/(\d{3}) \(/.exec(text)?.[1]} ${/with message "(.*)"$/s.exec(text)?.[1] ?? text}`;
  }
  await sleep(300); // its deliveries, before the next consumer comes
  return c;
}

/** Three messages in a fresh queue of `type`; consumers come one after another (`exclusive` each); their answers and deliveries. */
function scenario(type: string, exclusive: boolean[]) {
  return async (connect: () => Promise<ChannelModel>, id: string): Promise<string> => {
    const setup = await connect();
    const ch = await setup.createConfirmChannel();
    await ch.assertQueue(id, { durable: true, arguments: { 'x-queue-type': type } });
    for (const body of ['m0', 'm1', 'm2']) ch.sendToQueue(id, Buffer.from(body), { persistent: true });
    await ch.waitForConfirms();
    const consumers: Consuming[] = [];
    try {
      for (const e of exclusive) consumers.push(await consumer(connect, id, type, e));
      return consumers.map((c, i) => `${exclusive[i] ? 'exclusive' : 'plain'}: ${c.answer}, got ${c.received}`).join(' | ');
    } finally {
      for (const c of consumers) await c.connection.close().catch(() => undefined);
      await ch.deleteQueue(id);
      await setup.close();
    }
  };
}

const refused = "403 ACCESS_REFUSED - queue 'Q' in vhost '/' in exclusive use";

const CASES: DifferentialCase[] = [
  {
    name: 'classic: consumers beside an exclusive one are refused',
    run: scenario('classic', [true, false, true]),
    expected: `exclusive: ok, got 1 | plain: ${refused}, got 0 | exclusive: ${refused}, got 0`,
  },
  {
    name: 'classic: an exclusive consumer beside another is refused',
    run: scenario('classic', [false, true]),
    expected: `plain: ok, got 1 | exclusive: ${refused}, got 0`,
  },
  // RabbitMQ 3.10.8 records the flag on quorum and stream queues without enforcing it.
  ...['quorum', 'stream'].flatMap((type): DifferentialCase[] => [
    { name: `${type}: an exclusive consumer does not keep others out, all are served`, run: scenario(type, [true, false, true]), expected: 'exclusive: ok, got 1 | plain: ok, got 1 | exclusive: ok, got 1' },
    { name: `${type}: an exclusive consumer beside another is accepted`, run: scenario(type, [false, true]), expected: 'plain: ok, got 1 | exclusive: ok, got 1' },
  ]),
];

describeDifferential('exclusive consumers by queue type, as RabbitMQ 3.10.8', 'xc', CASES);
