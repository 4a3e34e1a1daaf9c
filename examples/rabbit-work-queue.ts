/**
 * A work queue over AMQP: one publisher with confirms, two competing workers with prefetch 1.
 * Run: npx tsx examples/rabbit-work-queue.ts
 */
import amqp from 'amqplib';
import { createBroker } from '../core/index.ts';
import { memoryStorage } from '../plugins/storage-memory/index.ts';
import { rabbit } from '../plugins/rabbit/index.ts';

const broker = await createBroker({ plugins: [memoryStorage(), rabbit()], config: { logLevel: 'warn', host: '127.0.0.1', amqp: { port: 'auto' } } });
await broker.start();
const port = broker.listeners().find((l) => l.protocol === 'amqp')!.port;
const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);

const done = new Map<string, string[]>([['alice', []], ['bob', []]]);
let finished = 0;
const allDone = new Promise<void>((resolve) => {
  for (const name of done.keys()) {
    void conn.createChannel().then(async (ch) => {
      await ch.assertQueue('tasks', { durable: true });
      await ch.prefetch(1);
      await ch.consume('tasks', (m) => {
        setTimeout(() => {
          done.get(name)!.push(m!.content.toString());
          ch.ack(m!);
          if (++finished === 10) resolve();
        }, 10);
      });
    });
  }
});

const publisher = await conn.createConfirmChannel();
await publisher.assertQueue('tasks', { durable: true });
for (let i = 1; i <= 10; i++) publisher.sendToQueue('tasks', Buffer.from(`task ${i}`), { persistent: true });
await publisher.waitForConfirms();
await allDone;
for (const [name, tasks] of done) console.log(`${name} did ${tasks.length} tasks`);
await conn.close();
await broker.stop();
