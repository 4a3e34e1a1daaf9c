/**
 * Transactional produce vs non-transactional in the same run: confluent-kafka (librdkafka) producing
 * 100 B records to one partition, idempotent, acks=all, storage-fs flush never; the transactional
 * producer commits every 1,000 records. Each mode runs three times, alternating, on its own topic.
 * Set BENCH_TXN_RECORDS (default 200,000) to change the volume.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cpuSeconds, fmt, freePort, lineMatching, median, printTable, shell, stopper } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TMP = path.join(ROOT, '.bench-tmp/kafka-transactions');
const RECORDS = Number(process.env.BENCH_TXN_RECORDS ?? 200_000);
const RUNS = 3;
const WORKER = path.join(ROOT, 'bench/workers/txn-producer.py');

async function startWharf(dataDir: string): Promise<{ child: ChildProcess; address: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), 'start', '--data-dir', dataDir, '--topics-flush', 'never', '--kafka-port', String(port), '--amqp-port', '0', '--rocket-port', '0', '--http-port', '0', '--host', '127.0.0.1', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await lineMatching(child, /^Wharf ready/);
  return { child, address: `127.0.0.1:${port}`, stop: stopper(child) };
}

fs.rmSync(TMP, { recursive: true, force: true });
fs.mkdirSync(TMP, { recursive: true });
const server = await startWharf(path.join(TMP, 'data'));
const results: Record<string, Array<{ rate: number; cpu: number }>> = { idempotent: [], transactional: [] };
try {
  for (let run = 0; run < RUNS; run++) {
    for (const mode of ['idempotent', 'transactional'] as const) {
      const before = cpuSeconds(server.child.pid!);
      const { stdout } = await shell(`/usr/bin/python3 ${WORKER} ${server.address} ${mode}-${run} ${mode} ${RECORDS}`);
      const seconds = Number(/seconds ([\d.]+)/.exec(stdout)![1]);
      results[mode]!.push({ rate: RECORDS / seconds, cpu: cpuSeconds(server.child.pid!) - before });
    }
  }
} finally {
  await server.stop();
  fs.rmSync(TMP, { recursive: true, force: true });
}
const idempotent = median(results.idempotent!.map((r) => r.rate));
const transactional = median(results.transactional!.map((r) => r.rate));
printTable(`Kafka transactional produce (${RECORDS.toLocaleString('en')} x 100 B, commit every 1,000; median of ${RUNS})`, ['producer', 'records/s', 'broker CPU s', 'vs idempotent'], [
  ['idempotent', fmt(idempotent), fmt(median(results.idempotent!.map((r) => r.cpu)), 2), '1.00x'],
  ['transactional', fmt(transactional), fmt(median(results.transactional!.map((r) => r.cpu)), 2), `${fmt(transactional / idempotent, 2)}x`],
]);
