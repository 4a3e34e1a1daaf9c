import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKENS, type Metrics } from '../../core/index.ts';
import { startAdmin, type AdminTestBroker } from '../helpers/admin.ts';

/** /metrics answers straight from the exposition writer's buffer, which later scrapes reuse. */
let broker: AdminTestBroker;

beforeAll(async () => {
  broker = await startAdmin([]);
});

afterAll(async () => {
  await broker?.stop();
});

/** Values of `family`'s samples in an exposition, by count. */
function valueCounts(text: string, family: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${family}{`)) continue;
    const value = line.slice(line.lastIndexOf(' ') + 1);
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return counts;
}

describe('/metrics answers', () => {
  it('a slow reader gets its scrape intact while later scrapes are written and answered', async () => {
    const SERIES = 300_000;
    let generation = 1;
    const metrics = broker.broker.get<Metrics>(TOKENS.Metrics);
    metrics.family({ name: 'wharf_test_generation', help: 'the scrape generation, on every series', type: 'gauge', labelNames: ['n'] }).contribute((emit) => {
      for (let n = 0; n < SERIES; n++) emit(generation, { n });
    });

    // ~11 MB: more than loopback's socket buffers take while the reader waits, so most of it is still
    // the server's to write when the next scrapes run.
    const slow = net.connect(Number(new URL(broker.base).port), '127.0.0.1');
    const chunks: Buffer[] = [];
    const firstChunk = new Promise<void>((resolve) =>
      slow.on('data', (chunk: Buffer) => {
        if (chunks.length === 0) slow.pause();
        chunks.push(chunk);
        resolve();
      }),
    );
    const ended = new Promise<void>((resolve) => slow.on('end', resolve));
    slow.write('GET /metrics HTTP/1.1\r\nHost: wharf\r\nConnection: close\r\n\r\n');
    await firstChunk;

    generation = 2;
    for (let i = 0; i < 2; i++) {
      const text = await (await fetch(`${broker.base}/metrics`)).text();
      expect(valueCounts(text, 'wharf_test_generation')).toEqual(new Map([['2', SERIES]]));
    }

    slow.resume();
    await ended;
    const answer = Buffer.concat(chunks).toString();
    expect(answer.slice(0, answer.indexOf('\r\n'))).toBe('HTTP/1.1 200 OK');
    expect(valueCounts(answer.slice(answer.indexOf('\r\n\r\n') + 4), 'wharf_test_generation')).toEqual(new Map([['1', SERIES]]));
  });
});
