/**
 * AMQP throughput and latency against RabbitMQ 3.10.8 on the same machine, same client (amqplib), same
 * method (reference/amqp.md §5): 16 B and 1 KiB bodies, transient and persistent, no-ack and
 * prefetch-1000 acks, without and with confirms; publisher and consumer in separate processes.
 * Then consumer latency at a steady 10k msg/s (both clients with TCP_NODELAY, so TCP delayed ACKs are not
 * what is measured), and Wharf's RSS with 10 M persistent 1 KiB messages queued.
 * The two brokers run side by side and take turns cell by cell.
 * Installs Debian's rabbitmq-server if missing (root). BENCH_AMQP_RUNS (3), BENCH_AMQP_QUEUED (10,000,000; 0 skips),
 * BENCH_AMQP_ONLY (wharf | rabbitmq: one side only, for profiling).
 */
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fmt, freePort, lineFields, lineMatching, median, printTable, stopper } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TMP = path.join(ROOT, '.bench-tmp/amqp');
const RUNS = Number(process.env.BENCH_AMQP_RUNS ?? 3);
const QUEUED = Number(process.env.BENCH_AMQP_QUEUED ?? 10_000_000);

interface Broker {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function startWharf(): Promise<Broker> {
  const port = await freePort();
  const dataDir = path.join(TMP, 'wharf');
  fs.rmSync(dataDir, { recursive: true, force: true });
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), 'start', '--data-dir', dataDir, '--kafka-port', '0', '--amqp-port', String(port), '--http-port', '0', '--host', '127.0.0.1', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await lineMatching(child, /^Wharf ready/);
  return { name: 'wharf', url: `amqp://guest:guest@127.0.0.1:${port}`, pid: child.pid!, stop: stopper(child) };
}

async function startRabbit(): Promise<Broker> {
  if (!fs.existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server')) execSync('apt-get install -y -qq rabbitmq-server', { stdio: 'inherit' });
  const base = path.join(TMP, 'rabbitmq');
  fs.rmSync(base, { recursive: true, force: true });
  fs.mkdirSync(base, { recursive: true });
  fs.writeFileSync(path.join(base, 'enabled_plugins'), '[].');
  fs.writeFileSync(path.join(base, 'rabbitmq.conf'), 'loopback_users = none\n');
  const port = await freePort();
  const env = {
    ...process.env,
    HOME: base,
    RABBITMQ_NODENAME: `wharfbench${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(await freePort()),
    RABBITMQ_MNESIA_BASE: path.join(base, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(base, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(base, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: path.join(base, 'rabbitmq'),
  };
  const child = spawn('/usr/lib/rabbitmq/bin/rabbitmq-server', [], { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  await lineMatching(child, /Starting broker\.\.\. completed/);
  const beam = Number(execSync(`pgrep -f 'wharfbench${port}@localhost' -n`).toString().trim().split('\n').pop());
  return {
    name: 'rabbitmq',
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    pid: beam,
    stop: async () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise((r) => setTimeout(r, 2000));
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

/** A load-generator process; `exited` is captured at spawn so an early exit is never missed. */
function client(args: string[]): ChildProcess & { exited: Promise<unknown> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/workers/amqp-client.ts'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return Object.assign(child, { exited: new Promise((resolve) => child.once('exit', resolve)) });
}

interface Cell {
  bytes: number;
  persistent: boolean;
  ack: boolean;
  confirms: boolean;
}

let seq = 0;
async function runCell(broker: Broker, cell: Cell, count: number, rate = 0): Promise<{ rate: number; p50?: number; p99?: number }> {
  const queue = `bench-${cell.persistent ? 'durable' : 'transient'}-${seq++}`;
  const consumer = client(['consume', broker.url, queue, String(count), cell.ack ? '1' : '0', rate ? '1' : '0']);
  await lineFields(consumer, 'ready');
  const publisher = client(['publish', broker.url, queue, String(count), String(cell.bytes), cell.persistent ? '1' : '0', cell.confirms ? '1' : '0', String(rate)]);
  const [, first] = await lineFields(publisher, 'first');
  const [, last, p50, p99] = await lineFields(consumer, 'last');
  await Promise.all([publisher.exited, consumer.exited]);
  return { rate: (count * 1000) / (Number(last) - Number(first)), p50: p50 === undefined ? undefined : Number(p50), p99: p99 === undefined ? undefined : Number(p99) };
}

const cells: Cell[] = [];
for (const confirms of [false, true]) for (const bytes of [16, 1024]) for (const persistent of [false, true]) for (const ack of [false, true]) cells.push({ bytes, persistent, ack, confirms });
const label = (c: Cell) => `${c.bytes === 16 ? '16 B' : '1 KiB'}, ${c.persistent ? 'persistent' : 'transient'}, ${c.ack ? 'ack, prefetch 1000' : 'noAck'}, ${c.confirms ? 'confirms (1000)' : 'no confirms'}`;

fs.rmSync(TMP, { recursive: true, force: true });
fs.mkdirSync(TMP, { recursive: true });
const results = new Map<string, { wharf: number[]; rabbitmq: number[] }>();
for (const cell of cells) results.set(label(cell), { wharf: [], rabbitmq: [] });
const latency = { wharf: [] as number[][], rabbitmq: [] as number[][] };
const only = process.env.BENCH_AMQP_ONLY;
// Both brokers run side by side (an idle RabbitMQ uses ~0.3% of a core) and take turns cell by cell,
// the first one alternating between runs, so a machine that slows down mid-run slows both alike.
const brokers: Broker[] = [];
for (const start of only === 'wharf' ? [startWharf] : only === 'rabbitmq' ? [startRabbit] : [startRabbit, startWharf]) brokers.push(await start());
for (let run = 0; run < RUNS; run++) {
  const turn = run % 2 === 0 ? brokers : [...brokers].reverse();
  for (const cell of cells) {
    for (const broker of turn) {
      const { rate } = await runCell(broker, cell, cell.bytes === 16 ? 100_000 : 50_000);
      process.stderr.write(`${broker.name}: ${label(cell)}: ${fmt(rate)} msg/s\n`);
      results.get(label(cell))![broker.name as 'wharf' | 'rabbitmq'].push(rate);
    }
  }
  for (const broker of turn) {
    const steady = await runCell(broker, { bytes: 16, persistent: false, ack: true, confirms: false }, 50_000, 10_000);
    latency[broker.name as 'wharf' | 'rabbitmq'].push([steady.p50!, steady.p99!]);
  }
}
for (const broker of brokers) await broker.stop();

printTable(
  `AMQP e2e msg/s, amqplib publisher and consumer in separate processes, median of ${RUNS} (100k msgs for 16 B, 50k for 1 KiB, 10k warm-up each)`,
  ['cell', 'wharf', 'rabbitmq 3.10.8', 'ratio', 'target'],
  [...results].map(([name, r]) => [name, fmt(median(r.wharf)), fmt(median(r.rabbitmq)), `${(median(r.wharf) / median(r.rabbitmq)).toFixed(2)}×`, '≥ 2×']),
);
printTable(`consumer latency at a steady 10k msg/s (16 B, transient, ack, clients with TCP_NODELAY), median of ${RUNS} runs`, ['broker', 'p50', 'p99', 'target'], [
  ['wharf', `${median(latency.wharf.map((l) => l[0]!)).toFixed(2)} ms`, `${median(latency.wharf.map((l) => l[1]!)).toFixed(2)} ms`, '≤ RabbitMQ p99'],
  ['rabbitmq', `${median(latency.rabbitmq.map((l) => l[0]!)).toFixed(2)} ms`, `${median(latency.rabbitmq.map((l) => l[1]!)).toFixed(2)} ms`, ''],
]);

if (QUEUED > 0) {
  const broker = await startWharf();
  let peak = 0;
  const rss = () => Number(fs.readFileSync(`/proc/${broker.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;
  const sampler = setInterval(() => (peak = Math.max(peak, rss())), 250);
  const started = performance.now();
  const publisher = client(['publish', broker.url, 'bench-durable-queued', String(QUEUED), '1024', '1', '1', '0', '0']);
  const declare = client(['consume', broker.url, 'bench-durable-queued', '0', '0', '0']);
  await lineFields(declare, 'ready');
  declare.kill();
  await publisher.exited;
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  printTable(`${fmt(QUEUED)} persistent 1 KiB messages queued with no consumer (confirms)`, ['measurement', 'wharf', 'target'], [
    ['peak RSS', `${fmt(peak)} MiB`, '< 200 MB'],
    ['publish rate', `${fmt(QUEUED / seconds)} msg/s`, ''],
  ]);
  await broker.stop();
}
fs.rmSync(TMP, { recursive: true, force: true });
