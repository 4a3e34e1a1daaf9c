/**
 * Transactional produce vs non-transactional in the same run: confluent-kafka (librdkafka) producing
 * 100 B records to one partition, idempotent, acks=all, storage-fs flush never; the transactional
 * producer commits every 1,000 records. Each mode runs three times, alternating, on its own topic; then
 * again with four producers at once (one partition each), where one producer's commit round trips
 * overlap the others' records. Set BENCH_TXN_RECORDS (default 200,000 per producer) to change the volume.
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
const PARALLEL = [1, 4];
const results = new Map<string, Array<{ rate: number; cpu: number }>>();
try {
  for (const producers of PARALLEL) {
    for (let run = 0; run < RUNS; run++) {
      for (const mode of ['idempotent', 'transactional'] as const) {
        const topic = `${mode}-${producers}-${run}`;
        const before = cpuSeconds(server.child.pid!);
        const workers = Array.from({ length: producers }, (_, p) => `/usr/bin/python3 ${WORKER} ${server.address} ${topic} ${mode} ${RECORDS} ${p}`);
        await shell(`/usr/bin/python3 -c "from confluent_kafka.admin import AdminClient, NewTopic; AdminClient({'bootstrap.servers': '${server.address}'}).create_topics([NewTopic('${topic}', ${producers})])['${topic}'].result()"`);
        const { stdout } = await shell(workers.map((w) => `${w} &`).join(' ') + ' wait');
        const seconds = Math.max(...[...stdout.matchAll(/seconds ([\d.]+)/g)].map((m) => Number(m[1])));
        const key = `${mode}/${producers}`;
        results.set(key, [...(results.get(key) ?? []), { rate: (RECORDS * producers) / seconds, cpu: cpuSeconds(server.child.pid!) - before }]);
      }
    }
  }
} finally {
  await server.stop();
  fs.rmSync(TMP, { recursive: true, force: true });
}
const rows = PARALLEL.flatMap((producers) => {
  const rate = (mode: string) => median(results.get(`${mode}/${producers}`)!.map((r) => r.rate));
  const cpu = (mode: string) => median(results.get(`${mode}/${producers}`)!.map((r) => r.cpu));
  return (['idempotent', 'transactional'] as const).map((mode) => [String(producers), mode, fmt(rate(mode)), fmt(cpu(mode), 2), `${fmt(rate(mode) / rate('idempotent'), 2)}x`]);
});
printTable(`Kafka transactional produce (${RECORDS.toLocaleString('en')} x 100 B per producer, commit every 1,000; median of ${RUNS})`, ['producers', 'producer', 'records/s', 'broker CPU s', 'vs idempotent'], rows);
