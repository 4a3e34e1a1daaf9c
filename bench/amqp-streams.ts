/**
 * Stream queues over AMQP 0-9-1 against RabbitMQ 3.10.8's (one node each, same machine, side by side, taking
 * turns): a stream filled with BENCH_STREAM_COUNT (200,000) 100-byte messages, then 10 amqplib consumers
 * (one process, a channel each, prefetch 1000, acks every 500) read it all from `first`; aggregate msg/s.
 * Installs Debian's rabbitmq-server if missing (root). BENCH_STREAM_RUNS (3).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cpuSeconds, fmt, lineFields, median, printTable } from './harness.ts';
import { startRabbit, startWharf, type Broker } from './lib/amqp-brokers.ts';

const TMP = path.resolve(import.meta.dirname, '../.bench-tmp/amqp-streams');
const RUNS = Number(process.env.BENCH_STREAM_RUNS ?? 3);
const COUNT = Number(process.env.BENCH_STREAM_COUNT ?? 200_000);
const CONSUMERS = 10;

function worker(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'workers/amqp-stream-client.ts'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return Object.assign(child, { exited: new Promise((resolve) => child.once('exit', resolve)) });
}

fs.rmSync(TMP, { recursive: true, force: true });
fs.mkdirSync(TMP, { recursive: true });
const brokers: Broker[] = [await startRabbit(TMP), await startWharf(TMP)];
const rates = { wharf: [] as number[], rabbitmq: [] as number[] };
const cpuPerMessage = { wharf: [] as number[], rabbitmq: [] as number[] };
try {
  for (const broker of brokers) {
    const fill = worker(['fill', broker.url, 'bench-stream', String(COUNT), '100']);
    await lineFields(fill, 'filled');
    await fill.exited;
  }
  for (let run = 0; run < RUNS; run++) {
    for (const broker of run % 2 === 0 ? brokers : [...brokers].reverse()) {
      const name = broker.name as 'wharf' | 'rabbitmq';
      const cpu = cpuSeconds(broker.pid);
      const read = worker(['read', broker.url, 'bench-stream', String(COUNT), String(CONSUMERS), '1000']);
      const [, elapsed] = await lineFields(read, 'elapsed');
      await read.exited;
      const rate = (COUNT * CONSUMERS * 1000) / Number(elapsed);
      cpuPerMessage[name].push(((cpuSeconds(broker.pid) - cpu) * 1e6) / (COUNT * CONSUMERS));
      rates[name].push(rate);
      process.stderr.write(`${name}: ${fmt(rate)} msg/s\n`);
    }
  }
} finally {
  for (const broker of brokers) await broker.stop();
}
fs.rmSync(TMP, { recursive: true, force: true });

printTable(
  `AMQP stream consume: ${CONSUMERS} consumers read the same stream of ${fmt(COUNT)} 100-byte messages from first (prefetch 1000), aggregate, median of ${RUNS}`,
  ['broker', 'msg/s', 'broker CPU µs/msg'],
  [
    ['wharf', fmt(median(rates.wharf)), fmt(median(cpuPerMessage.wharf), 1)],
    ['rabbitmq 3.10.8', fmt(median(rates.rabbitmq)), fmt(median(cpuPerMessage.rabbitmq), 1)],
    ['ratio', `${(median(rates.wharf) / median(rates.rabbitmq)).toFixed(2)}×`, ''],
  ],
);
