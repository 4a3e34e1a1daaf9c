import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/**
 * A quorum queue's at-least-once dead-lettering, as RabbitMQ's rabbit_fifo_dlx_worker runs it: a dead letter
 * the target refused is published again only once a settle timeout passed since the last try (the worker's
 * timer fires every `dead_letter_worker_publisher_confirm_timeout`), and it survives a restart of the broker
 * process in the dead-letter state, not back among the source queue's ready messages.
 */
const SETTLE_TIMEOUT_MS = 3000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const dirs: Array<{ remove(): void }> = [];
const brokers: BrokerProcess[] = [];
afterEach(async () => {
  for (const broker of brokers.splice(0)) await broker.kill();
  for (const dir of dirs.splice(0)) dir.remove();
});

async function start(dataDir: string): Promise<{ broker: BrokerProcess; connection: amqp.ChannelModel }> {
  const broker = await startBrokerProcess(dataDir, ['--amqp-dead-letter-worker-publisher-confirm-timeout-ms', String(SETTLE_TIMEOUT_MS)]);
  brokers.push(broker);
  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
  connection.on('error', () => undefined);
  return { broker, connection };
}

async function getOne(ch: amqp.Channel, queue: string, waitMs: number): Promise<amqp.GetMessage | false> {
  for (const until = Date.now() + waitMs; ; await sleep(50)) {
    const got = await ch.get(queue, { noAck: false });
    if (got || Date.now() > until) return got;
  }
}

describe('at-least-once dead-lettering of a quorum queue', () => {
  it('a dead letter its full target refused resumes after a restart and is published again once the settle timeout passed, not before', async () => {
    const dir = tempDir();
    dirs.push(dir);
    let { broker, connection } = await start(dir.path);
    let ch = await connection.createConfirmChannel();
    await ch.assertExchange('dlw-dlx', 'direct', { durable: true });
    // The target takes one message and refuses the next while it holds it.
    await ch.assertQueue('dlw-target', { durable: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    await ch.bindQueue('dlw-target', 'dlw-dlx', 'dlw-source');
    await ch.assertQueue('dlw-source', {
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-overflow': 'reject-publish', 'x-dead-letter-strategy': 'at-least-once', 'x-dead-letter-exchange': 'dlw-dlx' },
    });
    ch.sendToQueue('dlw-target', Buffer.from('filler'), { persistent: true });
    ch.sendToQueue('dlw-source', Buffer.from('precious'), { persistent: true });
    await ch.waitForConfirms();
    ch.reject((await getOne(ch, 'dlw-source', 3000)) as amqp.GetMessage, false);
    await sleep(300);
    await connection.close();
    expect(await broker.stop()).toBe(0);

    ({ broker, connection } = await start(dir.path));
    ch = await connection.createConfirmChannel();
    // The dead letter is still dead-lettering: not a ready message of the source (the target, still full, refused it again at start).
    expect((await ch.checkQueue('dlw-source')).messageCount).toBe(0);
    const filler = (await getOne(ch, 'dlw-target', 3000)) as amqp.GetMessage;
    expect(filler.content.toString()).toBe('filler');
    ch.ack(filler);
    const roomAt = Date.now();
    // The target has room now; the worker tries again only when its timer finds the last try a settle timeout old.
    await sleep(1500);
    expect((await ch.checkQueue('dlw-target')).messageCount).toBe(0);
    const dead = (await getOne(ch, 'dlw-target', 3 * SETTLE_TIMEOUT_MS)) as amqp.GetMessage;
    const waited = Date.now() - roomAt;
    expect(dead.content.toString()).toBe('precious');
    const [death] = dead.properties.headers!['x-death']!;
    expect([death!.reason, death!.queue, death!.count]).toEqual(['rejected', 'dlw-source', 1]);
    expect(waited).toBeLessThan(2 * SETTLE_TIMEOUT_MS + 1000);
    ch.ack(dead);
    await sleep(300);
    // Once stored by its target it left the source for good, and went once.
    expect((await ch.checkQueue('dlw-source')).messageCount).toBe(0);
    expect((await ch.checkQueue('dlw-target')).messageCount).toBe(0);
    await connection.close();
  }, 60_000);
});
