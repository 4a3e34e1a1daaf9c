/**
 * Quorum queues against RabbitMQ 3.10.8's (one node each, same machine, same amqplib publisher and consumer in
 * separate processes): 1 KiB persistent messages, publisher confirms (1000 outstanding), manual acks with
 * prefetch 1000. The two brokers run side by side and take turns. Installs Debian's rabbitmq-server if
 * missing (root). BENCH_QUORUM_RUNS (3), BENCH_QUORUM_COUNT (50,000).
 */
import fs from 'node:fs';
import path from 'node:path';
import { cpuSeconds, fmt, median, printTable } from './harness.ts';
import { runCell, startRabbit, startWharf, type Broker } from './lib/amqp-brokers.ts';

const TMP = path.resolve(import.meta.dirname, '../.bench-tmp/quorum');
const RUNS = Number(process.env.BENCH_QUORUM_RUNS ?? 3);
const COUNT = Number(process.env.BENCH_QUORUM_COUNT ?? 50_000);
const cell = { bytes: 1024, persistent: true, ack: true, confirms: true };

fs.rmSync(TMP, { recursive: true, force: true });
fs.mkdirSync(TMP, { recursive: true });
const brokers: Broker[] = [await startRabbit(TMP), await startWharf(TMP)];
const rates = { wharf: [] as number[], rabbitmq: [] as number[] };
const cpuPerMessage = { wharf: [] as number[], rabbitmq: [] as number[] };
try {
  for (let run = 0; run < RUNS; run++) {
    for (const broker of run % 2 === 0 ? brokers : [...brokers].reverse()) {
      const name = broker.name as 'wharf' | 'rabbitmq';
      const cpu = cpuSeconds(broker.pid);
      const { rate } = await runCell(broker, cell, COUNT, 0, 'quorum');
      // The warm-up's 10k messages go through the broker too.
      cpuPerMessage[name].push(((cpuSeconds(broker.pid) - cpu) * 1e6) / (COUNT + 10_000));
      rates[name].push(rate);
      process.stderr.write(`${name}: ${fmt(rate)} msg/s\n`);
    }
  }
} finally {
  for (const broker of brokers) await broker.stop();
}
fs.rmSync(TMP, { recursive: true, force: true });

printTable(
  `quorum queue e2e, 1 KiB persistent, confirms (1000 outstanding), manual ack (prefetch 1000), amqplib in separate processes, median of ${RUNS} (${fmt(COUNT)} msgs, 10k warm-up)`,
  ['broker', 'msg/s', 'broker CPU µs/msg'],
  [
    ['wharf', fmt(median(rates.wharf)), fmt(median(cpuPerMessage.wharf), 1)],
    ['rabbitmq 3.10.8', fmt(median(rates.rabbitmq)), fmt(median(cpuPerMessage.rabbitmq), 1)],
    ['ratio', `${(median(rates.wharf) / median(rates.rabbitmq)).toFixed(2)}×`, ''],
  ],
);
