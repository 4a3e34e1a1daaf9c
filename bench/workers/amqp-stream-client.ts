/**
 * The AMQP stream benchmark's load: `fill <url> <stream> <count> <bytes>` declares the stream and publishes
 * with confirms (1000 outstanding); `read <url> <stream> <count> <consumers> <prefetch>` starts that many
 * consumers (one channel each) from `first`, acking each delivery, and prints `elapsed <ms>` once every
 * consumer has read `count` messages.
 */
import amqp from 'amqplib';

const [mode, url, stream, countText, ...rest] = process.argv.slice(2);
const count = Number(countText);
const connection = await amqp.connect(url!);

if (mode === 'fill') {
  const body = Buffer.alloc(Number(rest[0] ?? 100), 'x');
  const ch = await connection.createConfirmChannel();
  await ch.assertQueue(stream!, { durable: true, arguments: { 'x-queue-type': 'stream' } });
  for (let sent = 0; sent < count; ) {
    const window = Math.min(1000, count - sent);
    for (let i = 0; i < window; i++) ch.sendToQueue(stream!, body);
    sent += window;
    await ch.waitForConfirms();
  }
  console.log('filled');
} else {
  const consumers = Number(rest[0] ?? 10);
  const prefetch = Number(rest[1] ?? 1000);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: consumers }, async () => {
      const ch = await connection.createChannel();
      await ch.prefetch(prefetch);
      let got = 0;
      await new Promise<void>((resolve) => {
        void ch.consume(stream!, (m) => {
          if (!m) return;
          got++;
          // Acks in batches of half the prefetch, as a fast consumer does.
          if (got % (prefetch / 2) === 0 || got === count) ch.ack(m, true);
          if (got === count) resolve();
        }, { noAck: false, arguments: { 'x-stream-offset': 'first' } });
      });
    }),
  );
  console.log(`elapsed ${(performance.now() - started).toFixed(1)}`);
}
await connection.close();
