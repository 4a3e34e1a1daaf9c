/**
 * Kafka throughput with real clients, each figure beside a reference measured in the same run:
 *  - kcat -P, 100 B records, acks=1, storage-fs flush never: Wharf vs a minimal sink fed by the same command;
 *  - kcat -C from the start of the topic: Wharf vs a minimal fetch server over the same bytes;
 *  - kafkajs producer (batches of 1,000, 4 in flight): records/s, broker CPU vs client CPU;
 *  - broker RSS while kcat ingests 10 GB.
 * Set BENCH_KAFKA_RECORDS (default 5,000,000) and BENCH_KAFKA_INGEST_GB (default 10; 0 skips) to change the volume.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cpuSeconds, fmt, freePort, lineMatching, median, printTable, rssMiB, shell, stopper } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TMP = path.join(ROOT, '.bench-tmp/kafka');
const RECORDS = Number(process.env.BENCH_KAFKA_RECORDS ?? 5_000_000);
const INGEST_GB = Number(process.env.BENCH_KAFKA_INGEST_GB ?? 10);
const RUNS = 3;
const RECORD = 'x'.repeat(99);
const PRODUCER_FLAGS = ['-X', 'acks=1', '-X', 'linger.ms=10', '-X', 'batch.num.messages=100000', '-X', 'batch.size=1000000', '-X', 'queue.buffering.max.kbytes=2097151', '-X', 'queue.buffering.max.messages=10000000'];

interface Server {
  child: ChildProcess;
  address: string;
  stop(): Promise<void>;
}

async function startWharf(dataDir: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), 'start', '--data-dir', dataDir, '--topics-flush', 'never', '--kafka-port', String(port), '--amqp-port', '0', '--rocket-port', '0', '--stream-port', '0', '--http-port', '0', '--host', '127.0.0.1', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await lineMatching(child, /^Wharf ready/);
  return { child, address: `127.0.0.1:${port}`, stop: stopper(child) };
}

async function startReference(mode: 'sink' | 'fetch', file: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/workers/kafka-reference-server.ts'), mode, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = (await lineMatching(child, /^port \d+$/)).split(' ')[1];
  return { child, address: `127.0.0.1:${port}`, stop: stopper(child) };
}

interface Measured {
  recordsPerSecond: number;
  mbPerSecond: number;
  serverCpu: number;
  clientCpu: number;
}

async function produceInto(server: Server, input: string): Promise<Measured> {
  const before = cpuSeconds(server.child.pid!);
  const run = await shell(`kcat -P -b ${server.address} -t bench -p 0 ${PRODUCER_FLAGS.join(' ')} -l ${input}`);
  return { recordsPerSecond: RECORDS / run.seconds, mbPerSecond: (RECORDS * 100) / run.seconds / 1e6, serverCpu: cpuSeconds(server.child.pid!) - before, clientCpu: run.cpu };
}

async function consumeFrom(server: Server): Promise<Measured> {
  const before = cpuSeconds(server.child.pid!);
  const run = await shell(`kcat -C -b ${server.address} -t bench -p 0 -o beginning -c ${RECORDS} -q -X fetch.message.max.bytes=1048576 > /dev/null`);
  return { recordsPerSecond: RECORDS / run.seconds, mbPerSecond: (RECORDS * 100) / run.seconds / 1e6, serverCpu: cpuSeconds(server.child.pid!) - before, clientCpu: run.cpu };
}

const rows: string[][] = [];
const row = (label: string, wharf: Measured[], reference: Measured[], referenceLabel: string, target: string) => {
  const w = median(wharf.map((m) => m.recordsPerSecond));
  const r = median(reference.map((m) => m.recordsPerSecond));
  rows.push([
    label,
    `${fmt(w)} rec/s`,
    `${fmt(median(wharf.map((m) => m.mbPerSecond)))} MB/s`,
    `${fmt(r)} rec/s`,
    `${(w / r).toFixed(2)}×`,
    target,
    `${median(wharf.map((m) => m.serverCpu)).toFixed(2)} s / ${median(wharf.map((m) => m.clientCpu)).toFixed(2)} s`,
    referenceLabel,
  ]);
};

fs.rmSync(TMP, { recursive: true, force: true });
fs.mkdirSync(TMP, { recursive: true });
const input = path.join(TMP, 'records.txt');
fs.writeFileSync(input, `${RECORD}\n`.repeat(RECORDS));

const produced = { wharf: [] as Measured[], reference: [] as Measured[] };
const consumed = { wharf: [] as Measured[], reference: [] as Measured[] };
for (let run = 0; run < RUNS; run++) {
  const sinkFile = path.join(TMP, `sink-${run}.log`);
  const sink = await startReference('sink', sinkFile);
  produced.reference.push(await produceInto(sink, input));
  await sink.stop();

  const dataDir = path.join(TMP, `wharf-${run}`);
  const wharf = await startWharf(dataDir);
  produced.wharf.push(await produceInto(wharf, input));
  consumed.wharf.push(await consumeFrom(wharf));
  await wharf.stop();

  const fetcher = await startReference('fetch', sinkFile);
  consumed.reference.push(await consumeFrom(fetcher));
  await fetcher.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(sinkFile, { force: true });
}
row('kcat -P, 100 B, acks=1, fs flush never', produced.wharf, produced.reference, 'minimal sink, same kcat command', '≥ 0.8×');
row('kcat -C from the start', consumed.wharf, consumed.reference, 'minimal fetch server, same bytes', '≥ 0.8×');

{
  const wharf = await startWharf(path.join(TMP, 'kafkajs'));
  const results: Array<{ rate: number; brokerCpu: number; clientCpu: number }> = [];
  for (let run = 0; run < RUNS; run++) {
    const before = cpuSeconds(wharf.child.pid!);
    const out = await shell(`node --import tsx ${path.join(ROOT, 'bench/workers/kafkajs-producer.ts')} ${wharf.address} 500000`);
    const [, records, , seconds, , cpu] = out.stdout.trim().split(' ');
    results.push({ rate: Number(records) / Number(seconds), brokerCpu: cpuSeconds(wharf.child.pid!) - before, clientCpu: Number(cpu) });
  }
  await wharf.stop();
  const rate = median(results.map((r) => r.rate));
  const brokerCpu = median(results.map((r) => r.brokerCpu));
  const clientCpu = median(results.map((r) => r.clientCpu));
  rows.push(['kafkajs producer, 1,000/batch, 4 in flight', `${fmt(rate)} rec/s`, `${fmt((rate * 100) / 1e6)} MB/s`, '', '', 'client-bound', `${brokerCpu.toFixed(2)} s / ${clientCpu.toFixed(2)} s`, 'broker CPU vs kafkajs CPU']);
}

printTable(
  `Kafka, ${fmt(RECORDS)} records per run, median of ${RUNS} (CPU: server / client seconds per run)`,
  ['measurement', 'wharf', 'wharf MB/s', 'reference', 'ratio', 'target', 'CPU server/client', 'reference is'],
  rows,
);

if (INGEST_GB > 0) {
  const records = Math.round((INGEST_GB * 1e9) / 100);
  const wharf = await startWharf(path.join(TMP, 'ingest'));
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(wharf.child.pid!))), 200);
  const run = await shell(`yes ${RECORD} | head -n ${records} | kcat -P -b ${wharf.address} -t ingest -p 0 ${PRODUCER_FLAGS.join(' ')}`);
  clearInterval(sampler);
  await wharf.stop();
  printTable(`broker RSS while kcat ingests ${INGEST_GB} GB of 100 B records (sampled every 200 ms)`, ['measurement', 'wharf', 'target'], [
    ['peak RSS', `${fmt(peak)} MiB`, '< 300 MB'],
    ['ingest rate', `${fmt(records / run.seconds)} rec/s (${fmt((records * 100) / run.seconds / 1e6)} MB/s)`, ''],
  ]);
}
fs.rmSync(TMP, { recursive: true, force: true });
