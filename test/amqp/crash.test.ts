import amqp, { type ConfirmChannel } from 'amqplib';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exitCode, ROOT, waitForLine } from '../helpers/spawn.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** The CLI broker (storage-fs, default flush policy) in a child process, so it can be killed with SIGKILL. */
async function startBrokerProcess(dataDir: string) {
  const args = ['start', '--data-dir', dataDir, '--kafka-port', '0', '--rocket-port', '0', '--stream-port', '0', '--amqp-port', 'auto', '--http-port', '0', '--host', '127.0.0.1', '--log-level', 'error'];
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = await waitForLine(child, /^Wharf ready/);
  const port = Number(/amqp 127\.0\.0\.1:(\d+)/.exec(ready)![1]);
  return { child, url: `amqp://guest:guest@127.0.0.1:${port}` };
}

const QUEUES = ['crash-a', 'crash-b'];

describe('AMQP publishes confirmed before a SIGKILL survive it', () => {
  const dir = tempDir();
  afterEach(() => dir.remove());

  it('every confirmed persistent message is delivered after the restart unless a consumer acknowledged it before', async () => {
    const first = await startBrokerProcess(dir.path);
    const setup = await amqp.connect(first.url);
    setup.on('error', () => undefined);
    const admin = await setup.createChannel();
    await admin.assertExchange('crash-fanout', 'fanout', { durable: true });
    for (const queue of QUEUES) {
      await admin.assertQueue(queue, { durable: true });
      await admin.bindQueue(queue, 'crash-fanout', '');
    }
    // A consumer acknowledges part of crash-a while the load runs, so ack state and reclamation are in play.
    const acknowledged = new Set<string>();
    const consumerConnection = await amqp.connect(first.url);
    consumerConnection.on('error', () => undefined);
    const consumer = await consumerConnection.createChannel();
    await consumer.prefetch(200);
    await consumer.consume('crash-a', (m) => {
      if (!m) return;
      consumer.ack(m);
      acknowledged.add(m.content.toString());
    });

    const confirmed = new Set<string>();
    let stop = false;
    const publishers = Array.from({ length: 4 }, async (_, lane) => {
      const connection = await amqp.connect(first.url);
      connection.on('error', () => undefined);
      const channel: ConfirmChannel = await connection.createConfirmChannel();
      channel.on('error', () => undefined);
      for (let i = 0; !stop; i++) {
        const body = `${lane}-${i}`;
        // Even-numbered messages go through the default exchange to crash-b, odd ones through the fanout to
        // both queues; up to 50 in flight per lane.
        const exchange = i % 2 === 0 ? '' : 'crash-fanout';
        const sent = new Promise<boolean>((resolve) => channel.publish(exchange, 'crash-b', Buffer.from(body), { persistent: true }, (err) => resolve(!err)));
        void sent.then((ok) => ok && confirmed.add(body));
        if (i % 50 === 49 && !(await sent)) return;
      }
    });
    while (confirmed.size < 3000) await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGKILL');
    await exitCode(first.child);
    stop = true;
    await Promise.all(publishers.map((p) => p.catch(() => undefined)));

    const second = await startBrokerProcess(dir.path);
    const reader = await amqp.connect(second.url);
    const channel = await reader.createChannel();
    const after = new Map<string, Set<string>>();
    for (const queue of QUEUES) {
      const got = new Set<string>();
      for (let m = await channel.get(queue, { noAck: true }); m; m = await channel.get(queue, { noAck: true })) got.add(m.content.toString());
      after.set(queue, got);
    }
    const lost: string[] = [];
    for (const body of confirmed) {
      const fanned = Number(body.split('-')[1]) % 2 === 1;
      if (!after.get('crash-b')!.has(body)) lost.push(`crash-b:${body}`);
      if (fanned && !after.get('crash-a')!.has(body) && !acknowledged.has(body)) lost.push(`crash-a:${body}`);
    }
    expect(lost).toEqual([]);
    expect(confirmed.size).toBeGreaterThanOrEqual(3000);
    await reader.close();
    second.child.kill('SIGTERM');
    await exitCode(second.child);
  }, 60_000);
});
