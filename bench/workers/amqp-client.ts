/**
 * Load generator for bench/amqp, the method of reference/amqp.md §5 with publisher and consumer in separate processes.
 *   publish <url> <queue> <count> <bytes> <persistent:0|1> <confirms:0|1> [rate] [waitForConsumer:0|1]   prints "first <ms>" (epoch, sub-ms)
 *   consume <url> <queue> <count> <ack:0|1> [latency:0|1]                              prints "ready", then "last <ms>" [p50 p99]
 * Each first sends/consumes a 10k warm-up through `<queue>-warm`; the publisher starts measuring once it is drained.
 * BENCH_AMQP_QUEUE_TYPE=quorum makes the consumer declare quorum queues.
 */
import amqp, { type Channel, type ConfirmChannel } from 'amqplib';

const now = (): number => performance.timeOrigin + performance.now();
const [mode, url, queue, countText, ...rest] = process.argv.slice(2) as [string, string, string, string, ...string[]];
const count = Number(countText);
const WARM_UP = 10_000;

/** Latency runs switch Nagle off (for both brokers): with it, a paced stream of small frames waits on delayed ACKs. */
const socketOptions = (paced: boolean) => (paced ? { noDelay: true } : {});

async function publish(): Promise<void> {
  const [bytes, persistent, confirms, rate, waitForConsumer = 1] = rest.map(Number) as [number, number, number, number | undefined, number?];
  const conn = await amqp.connect(url, socketOptions(Boolean(rate)));
  const channel: Channel | ConfirmChannel = confirms ? await conn.createConfirmChannel() : await conn.createChannel();
  const body = Buffer.alloc(bytes, 'a');
  const options = { persistent: persistent === 1 };
  let outstanding = 0;
  let resumeConfirms: (() => void) | undefined;
  const send = async (target: string, n: number, paced: boolean): Promise<void> => {
    const start = now();
    for (let i = 0; i < n; i++) {
      if (paced && rate) {
        const due = start + (i * 1000) / rate;
        while (now() < due) await new Promise((r) => setTimeout(r, Math.max(0, due - now() - 0.2)));
        body.writeDoubleBE(now(), 0);
      }
      let ok: boolean;
      if (confirms) {
        outstanding++;
        ok = (channel as ConfirmChannel).sendToQueue(target, body, options, () => {
          outstanding--;
          if (outstanding <= 500 && resumeConfirms) {
            const resume = resumeConfirms;
            resumeConfirms = undefined;
            resume();
          }
        });
        if (outstanding >= 1000) await new Promise<void>((resolve) => (resumeConfirms = resolve));
      } else ok = channel.sendToQueue(target, body, options);
      if (!ok) await new Promise((resolve) => channel.once('drain', resolve));
      if (i % 512 === 511) await new Promise((resolve) => setImmediate(resolve));
    }
    if (confirms) await (channel as ConfirmChannel).waitForConfirms();
  };
  await send(`${queue}-warm`, WARM_UP, false);
  // The measured phase starts once the consumer has drained the warm-up, on either broker.
  while (waitForConsumer && (await channel.checkQueue(`${queue}-warm`)).messageCount > 0) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  process.stdout.write(`first ${now()}\n`);
  await send(queue, count, true);
  await channel.close();
  await conn.close();
}

async function consume(): Promise<void> {
  const [ack, latency] = rest.map(Number) as [number, number | undefined];
  const conn = await amqp.connect(url, socketOptions(Boolean(latency)));
  const channel = await conn.createChannel();
  if (ack) await channel.prefetch(1000);
  const durable = !queue.includes('transient');
  const type = process.env.BENCH_AMQP_QUEUE_TYPE;
  const options = type ? { durable: true, arguments: { 'x-queue-type': type } } : { durable };
  await channel.assertQueue(`${queue}-warm`, options);
  await channel.assertQueue(queue, options);
  const drain = (target: string, n: number, onMessage?: (content: Buffer) => void) =>
    new Promise<void>((resolve) => {
      let got = 0;
      void channel.consume(
        target,
        (m) => {
          if (!m) return;
          onMessage?.(m.content);
          if (ack) channel.ack(m);
          if (++got === n) resolve();
        },
        { noAck: ack === 0 },
      );
    });
  process.stdout.write('ready\n');
  await drain(`${queue}-warm`, WARM_UP);
  const latencies: number[] = [];
  await drain(queue, count, latency ? (content) => latencies.push(now() - content.readDoubleBE(0)) : undefined);
  const last = now();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  process.stdout.write(latency ? `last ${last} ${pct(0.5).toFixed(3)} ${pct(0.99).toFixed(3)}\n` : `last ${last}\n`);
  await channel.deleteQueue(`${queue}-warm`);
  await channel.deleteQueue(queue);
  await conn.close();
}

await (mode === 'publish' ? publish() : consume());
