/**
 * Transactional produce vs non-transactional in the same run: confluent-kafka (librdkafka) producing
 * 100 B records to one partition, idempotent, acks=all, storage-fs flush never; the transactional
 * producer commits every 1,000 records. Between them, the idempotent producer flushed every 1,000
 * records: the transactional pattern's wait for acknowledgements without the transaction's own round
 * trips. Each mode runs three times, alternating, on its own topic; then again with four producers at
 * once (one partition each), where one producer's commit round trips overlap the others' records.
 * Beside each rate: the wall time per 1,000 records of a producer, and how much of it the broker spent
 * answering that producer's requests (wharf_request_duration_seconds, summed over the run's requests and
 * divided by its producers); the rest is the client's. Set BENCH_TXN_RECORDS (default 200,000 per
 * producer) to change the volume.
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

const MODES = ['idempotent', 'flushed', 'transactional'] as const;
const LABELS: Record<(typeof MODES)[number], string> = { idempotent: 'idempotent', flushed: 'flushed every 1,000', transactional: 'transactional' };

async function startWharf(dataDir: string): Promise<{ child: ChildProcess; address: string; metrics: string; stop(): Promise<void> }> {
  const [port, httpPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), 'start', '--data-dir', dataDir, '--topics-flush', 'never', '--kafka-port', String(port), '--amqp-port', '0', '--rocket-port', '0', '--stream-port', '0', '--http-port', String(httpPort), '--host', '127.0.0.1', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await lineMatching(child, /^Wharf ready/);
  return { child, address: `127.0.0.1:${port}`, metrics: `http://127.0.0.1:${httpPort}/metrics`, stop: stopper(child) };
}

/** Seconds the broker has spent answering Kafka requests so far (the request duration histograms' sums). */
async function requestSeconds(metrics: string): Promise<number> {
  const text = await (await fetch(metrics)).text();
  let total = 0;
  for (const m of text.matchAll(/^wharf_request_duration_seconds_sum\{protocol="kafka",[^}]*\} (\S+)$/gm)) total += Number(m[1]);
  return total;
}

fs.rmSync(TMP, { recursive: true, force: true });
fs.mkdirSync(TMP, { recursive: true });
const server = await startWharf(path.join(TMP, 'data'));
const PARALLEL = [1, 4];
const results = new Map<string, Array<{ rate: number; cpu: number; msPer1000: number; brokerMsPer1000: number }>>();
try {
  for (const producers of PARALLEL) {
    for (let run = 0; run < RUNS; run++) {
      for (const mode of MODES) {
        const topic = `${mode}-${producers}-${run}`;
        // The admin client is kept referenced until its answer: a discarded one is destroyed with the request unanswered.
        await shell(`set -e; /usr/bin/python3 -c "from confluent_kafka.admin import AdminClient, NewTopic; admin = AdminClient({'bootstrap.servers': '${server.address}'}); admin.create_topics([NewTopic('${topic}', ${producers})])['${topic}'].result()"`);
        const before = cpuSeconds(server.child.pid!);
        const requestsBefore = await requestSeconds(server.metrics);
        const workers = Array.from({ length: producers }, (_, p) => `/usr/bin/python3 ${WORKER} ${server.address} ${topic} ${mode} ${RECORDS} ${p} & pids+=($!)`);
        // Each worker's exit status is checked: one that lost records fails the run.
        const { stdout } = await shell(`set -e; pids=(); ${workers.join('; ')}; for pid in "\${pids[@]}"; do wait $pid; done`);
        const cpu = cpuSeconds(server.child.pid!) - before;
        const brokerSeconds = (await requestSeconds(server.metrics)) - requestsBefore;
        const elapsed = [...stdout.matchAll(/seconds ([\d.]+)/g)].map((m) => Number(m[1]));
        if (elapsed.length !== producers) throw new Error(`${topic}: ${elapsed.length} of ${producers} producers reported`);
        const seconds = Math.max(...elapsed);
        const key = `${mode}/${producers}`;
        const thousands = RECORDS / 1000;
        results.set(key, [...(results.get(key) ?? []), { rate: (RECORDS * producers) / seconds, cpu, msPer1000: (seconds * 1000) / thousands, brokerMsPer1000: (brokerSeconds * 1000) / producers / thousands }]);
      }
    }
  }
} finally {
  await server.stop();
  fs.rmSync(TMP, { recursive: true, force: true });
}
const rows = PARALLEL.flatMap((producers) => {
  const of = (mode: string, field: 'rate' | 'cpu' | 'msPer1000' | 'brokerMsPer1000') => median(results.get(`${mode}/${producers}`)!.map((r) => r[field]));
  return MODES.map((mode) => [
    String(producers),
    LABELS[mode],
    fmt(of(mode, 'rate')),
    fmt(of(mode, 'msPer1000'), 2),
    fmt(of(mode, 'brokerMsPer1000'), 2),
    fmt(of(mode, 'cpu'), 2),
    `${fmt(of(mode, 'rate') / of('idempotent', 'rate'), 2)}x`,
  ]);
});
printTable(
  `Kafka transactional produce (${RECORDS.toLocaleString('en')} x 100 B per producer, commit every 1,000; median of ${RUNS})`,
  ['producers', 'producer', 'records/s', 'ms per 1,000', 'of which broker', 'broker CPU s', 'vs idempotent'],
  rows,
);
