import { afterEach, describe, expect, it } from 'vitest';
import { producerFor, receiveAll, simpleConsumerFor, type RocketTestBroker } from '../helpers/rocket.ts';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { exitCode, ROOT, waitForLine } from '../helpers/spawn.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** The CLI broker in a child process, so it can be killed with SIGKILL. */
async function startBrokerProcess(dataDir: string, port?: number) {
  const args = ['start', '--data-dir', dataDir, '--kafka-port', '0', '--amqp-port', '0', '--rocket-port', String(port ?? 'auto'), '--stream-port', '0', '--http-port', '0', '--host', '127.0.0.1', '--log-level', 'error'];
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = await waitForLine(child, /^Wharf ready/);
  const bound = Number(/rocketmq 127\.0\.0\.1:(\d+)/.exec(ready)![1]);
  const broker = { broker: undefined as never, port: bound, endpoints: `127.0.0.1:${bound}`, stop: async () => undefined } satisfies RocketTestBroker;
  return { child, broker };
}

describe('RocketMQ sends acknowledged before a SIGKILL survive it', () => {
  const dir = tempDir();
  afterEach(() => dir.remove());

  it('every message whose SendMessage succeeded is delivered after the restart', async () => {
    const first = await startBrokerProcess(dir.path);
    const producer = await producerFor(first.broker);
    const acked = new Set<string>();
    let stop = false;
    const senders = Array.from({ length: 8 }, async (_, lane) => {
      for (let i = 0; !stop; i++) {
        const body = `${lane}-${i}`;
        try {
          await producer.send({ topic: 'crash', body: Buffer.from(body) });
          acked.add(body);
        } catch {
          return;
        }
      }
    });
    while (acked.size < 300) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGKILL');
    await exitCode(first.child);
    stop = true;
    await Promise.all(senders);
    void producer.shutdown().catch(() => undefined);

    const second = await startBrokerProcess(dir.path);
    const consumer = await simpleConsumerFor(second.broker, 'g', new Map([['crash', '*']]), 1000);
    const received = new Set<string>();
    const missing = () => [...acked].some((b) => !received.has(b));
    for (let empty = 0; empty < 2 && missing(); ) {
      const batch = await receiveAll(consumer, 1000, 3000);
      if (batch.length === 0) empty++;
      for (const m of batch) {
        received.add(m.body.toString());
        await consumer.ack(m);
      }
    }
    const lost = [...acked].filter((b) => !received.has(b));
    expect(lost).toEqual([]);
    expect(received.size).toBeGreaterThanOrEqual(acked.size);
    await consumer.shutdown();
    second.child.kill('SIGTERM');
    await exitCode(second.child);
  }, 60_000);
});
