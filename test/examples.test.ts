import { describe, expect, it } from 'vitest';
import { exitCode, spawnTs } from './helpers/spawn.ts';

async function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnTs(file);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await exitCode(child);
  return { code, stdout, stderr };
}

describe('examples run with one command each', () => {
  it('examples/embedded.ts starts a broker in-process, uses it and stops it', async () => {
    const { code, stdout, stderr } = await run('examples/embedded.ts');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe('offset 0: hello\noffset 1: bonjour\nstopped\n');
  });

  it('examples/custom-storage/main.ts loads a user-written SegmentStore as a plugin', async () => {
    const { code, stdout } = await run('examples/custom-storage/main.ts');
    expect(code).toBe(0);
    expect(stdout).toContain('events-0/00000000000000000000.log');
    expect(stdout).toContain('events-0 holds offsets [0, 5)');
  });

  it('examples/custom-assignor/main.ts assigns a group with a user-written assignor loaded as a plugin', async () => {
    const { code, stdout } = await run('examples/custom-assignor/main.ts');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual(['alpha', 'beta', 'gamma']);
    const partitions = lines.flatMap((l) => (JSON.parse(l.slice(l.indexOf(':') + 1)) as { orders?: number[] }).orders ?? []);
    expect(partitions.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('examples/kafka-memory.ts composes a Kafka-only broker on storage-memory and serves kafkajs', async () => {
    const { code, stdout } = await run('examples/kafka-memory.ts');
    expect(code).toBe(0);
    expect(stdout).toMatch(/kafka listening on 127\.0\.0\.1:\d+/);
    expect(stdout).toContain('en -> hello');
    expect(stdout).toContain('fr -> bonjour');
  });

  it('examples/rabbit-work-queue.ts shares persistent tasks between two prefetch-1 workers over amqplib', async () => {
    const { code, stdout, stderr } = await run('examples/rabbit-work-queue.ts');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const counts = [...stdout.matchAll(/^(alice|bob) did (\d+) tasks$/gm)].map((m) => Number(m[2]));
    expect(counts).toHaveLength(2);
    expect(counts[0]! + counts[1]!).toBe(10);
    expect(Math.min(...counts)).toBeGreaterThan(0);
  });

  it('examples/rocket-orders.ts keeps each order\'s events in order through a FIFO group (rocketmq-client-nodejs)', async () => {
    const { code, stdout } = await run('examples/rocket-orders.ts');
    expect(code).toBe(0);
    for (const order of ['order-1', 'order-2', 'order-3']) expect(stdout).toContain(`${order}: created -> paid -> packed -> shipped`);
  });
});
