/**
 * Security: what logins cost the broker, and whether a login storm stalls established clients.
 *  - handshakes per second: 1,000 clients connect at once and log in with SCRAM-SHA-256, SCRAM-SHA-512
 *    (the broker: two HMACs and a hash per login) and PLAIN (the broker: PBKDF2 per login, two at a time
 *    in the libuv pool), each hanging up once in; the storm runs in its own process, which salts the
 *    password once, so the broker's side is what is measured;
 *  - a reconnect storm of 1,000 SCRAM-SHA-512 clients against 8 established SCRAM connections each
 *    producing 100 B records (acks=1, one request in flight): their produce latency (p50, p99, max)
 *    in the 3 s before the storm, during it and in the 3 s after, in the same run (after 3 s of warm-up).
 * BENCH_STORM (default 1,000) clients per storm.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeRecordBatch } from '../core/index.ts';
import { KafkaAdminClient, type KafkaLogin } from '../bin/kafka-admin-client.ts';
import { runSecurityCommand } from '../bin/security-cli.ts';
import { ApiKeys } from '../plugins/kafka/codec/index.ts';
import { cpuSeconds, fmt, lineMatching, percentile, printTable, stopper } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const STORM = Number(process.env.BENCH_STORM ?? 1000);
const PRODUCERS = 8;
const PHASE_MS = 3000;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-bench-security-'));
await runSecurityCommand('users', ['add', 'bench', '--password', 'bench-secret', '--super-user', '--data-dir', dataDir]);
const child = spawn(
  process.execPath,
  [path.join(ROOT, 'bin/wharf.js'), 'start', '--data-dir', dataDir, '--host', '127.0.0.1', '--log-level', 'error', '--allow-anonymous', 'false', '--kafka-port', 'auto', '--amqp-port', '0', '--rocket-port', '0', '--stream-port', '0', '--security-failed-authentication-delay-ms', '0', '--topics-flush', 'never', '--max-connections', '5000'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const stop = stopper(child);
try {
  const ready = await lineMatching(child, /^Wharf ready/);
  const port = Number(/kafka 127\.0\.0\.1:(\d+)/.exec(ready)![1]);
  const login = (mechanism: string): KafkaLogin => ({ user: 'bench', password: 'bench-secret', mechanism, saltedPasswords: new Map() });

  const storm = async (mechanism: string, count = STORM) => {
    const worker = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/workers/scram-storm.ts'), String(port), String(count), 'bench', 'bench-secret', mechanism], { stdio: ['ignore', 'pipe', 'inherit'] });
    const cpuBefore = cpuSeconds(child.pid!);
    const [, seconds, ok, failed] = (await lineMatching(worker, /^storm /)).split(' ').map(Number) as [number, number, number, number];
    return { seconds, ok, failed, brokerCpu: cpuSeconds(child.pid!) - cpuBefore };
  };

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN']) await storm(mechanism, 200); // warm-up, not reported
  const rates: string[][] = [];
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN']) {
    const r = await storm(mechanism);
    rates.push([mechanism, fmt(r.ok), fmt(r.failed), fmt(r.seconds, 2), fmt(r.ok / r.seconds), fmt((r.brokerCpu / r.ok) * 1e6)]);
  }
  printTable(`${fmt(STORM)} clients logging in at once (broker in its own process)`, ['mechanism', 'ok', 'failed', 'seconds', 'logins/s', 'broker CPU µs/login'], rates);

  // Established producers, measured before and during a SCRAM storm.
  const producers = await Promise.all(Array.from({ length: PRODUCERS }, () => KafkaAdminClient.connect(`127.0.0.1:${port}`, login('SCRAM-SHA-512'))));
  await producers[0]!.request(ApiKeys.CreateTopics, 4, { topics: [{ name: 'bench-security', numPartitions: PRODUCERS, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  const value = Buffer.alloc(100, 7);
  let phase: 'warm-up' | 'before' | 'during' | 'after' | 'done' = 'warm-up';
  const latencies = { 'warm-up': [] as number[], before: [] as number[], during: [] as number[], after: [] as number[] };
  const loops = producers.map(async (client, partition) => {
    while (phase !== 'done') {
      const records = encodeRecordBatch({ records: [{ value }] });
      const request = { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'bench-security', partitionData: [{ index: partition, records }] }] };
      const at = phase;
      const started = performance.now();
      const response = await client.request(ApiKeys.Produce, 7, request);
      if (response.responses[0]!.partitionResponses[0]!.errorCode !== 0) throw new Error(`produce failed: ${response.responses[0]!.partitionResponses[0]!.errorCode}`);
      if (at === phase) latencies[at].push(performance.now() - started);
    }
  });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  await sleep(PHASE_MS);
  phase = 'before';
  await sleep(PHASE_MS);
  phase = 'during';
  const during = await storm('SCRAM-SHA-512');
  phase = 'after';
  await sleep(PHASE_MS);
  phase = 'done';
  await Promise.all(loops);
  for (const p of producers) p.close();
  const row = (name: string, values: number[], seconds: number) => [name, fmt(values.length), fmt(values.length / seconds), fmt(percentile(values, 50), 2), fmt(percentile(values, 99), 2), fmt(Math.max(...values), 2)];
  printTable(
    `${PRODUCERS} established SCRAM connections producing 100 B records (acks=1, 1 in flight each); storm: ${fmt(during.ok)} SCRAM-SHA-512 logins in ${fmt(during.seconds, 2)} s`,
    ['phase', 'produces', 'produces/s', 'p50 ms', 'p99 ms', 'max ms'],
    [row('before the storm', latencies.before, PHASE_MS / 1000), row('during the storm', latencies.during, during.seconds), row('after the storm', latencies.after, PHASE_MS / 1000)],
  );
} finally {
  await stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
