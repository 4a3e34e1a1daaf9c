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
import fs from 'node:fs';
import path from 'node:path';
import { fmt, lineFields, median, printTable } from './harness.ts';
import { client, runCell, startRabbit, startWharf, type Broker, type Cell } from './lib/amqp-brokers.ts';

const TMP = path.resolve(import.meta.dirname, '../.bench-tmp/amqp');
const RUNS = Number(process.env.BENCH_AMQP_RUNS ?? 3);
const QUEUED = Number(process.env.BENCH_AMQP_QUEUED ?? 10_000_000);

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
for (const start of only === 'wharf' ? [startWharf] : only === 'rabbitmq' ? [startRabbit] : [startRabbit, startWharf]) brokers.push(await start(TMP));
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
  const broker = await startWharf(TMP);
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
