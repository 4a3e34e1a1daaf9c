/**
 * Throughput over TLS against plaintext on the same broker in the same run (issue 14): one Wharf process
 * serves Kafka on a plaintext and a TLS port and AMQP on amqp and amqps; each cell runs over both, taking
 * turns (the first alternating between runs), so a machine that slows down mid-run slows both alike.
 *  - kcat -P / kcat -C, 100 B and 1 KiB records, acks=1, storage-fs flush never (target: TLS ≥ 0.6× plaintext);
 *  - AMQP 1 KiB, transient, noAck, amqplib publisher and consumer in separate processes (bench/workers/amqp-client.ts).
 * Certificates: an EC P-256 CA and server certificate made with the openssl CLI (TLS 1.3, Node's defaults).
 * BENCH_TLS_RUNS (3), BENCH_TLS_RECORDS (1,000,000 100 B records; a quarter as many 1 KiB ones), BENCH_TLS_AMQP (50,000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeTestCertificates } from '../test/helpers/tls.ts';
import { cpuSeconds, fmt, freePort, lineFields, lineMatching, median, printTable, shell, stopper } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TMP = path.join(ROOT, '.bench-tmp/tls');
const RUNS = Number(process.env.BENCH_TLS_RUNS ?? 3);
const RECORDS = Number(process.env.BENCH_TLS_RECORDS ?? 1_000_000);
const AMQP_MESSAGES = Number(process.env.BENCH_TLS_AMQP ?? 50_000);
const PRODUCER_FLAGS = ['-X', 'acks=1', '-X', 'linger.ms=10', '-X', 'batch.num.messages=100000', '-X', 'batch.size=1000000', '-X', 'queue.buffering.max.kbytes=2097151', '-X', 'queue.buffering.max.messages=10000000'];

fs.rmSync(TMP, { recursive: true, force: true });
fs.mkdirSync(TMP, { recursive: true });
const certs = await makeTestCertificates();
const ports = { kafka: await freePort(), kafkaTls: await freePort(), amqp: await freePort(), amqpTls: await freePort() };
const broker: ChildProcess = spawn(
  process.execPath,
  [
    path.join(ROOT, 'bin/wharf.js'), 'start', '--data-dir', path.join(TMP, 'data'), '--topics-flush', 'never', '--host', '127.0.0.1', '--log-level', 'warn', '--rocket-port', '0', '--stream-port', '0',
    '--tls-cert', certs.server.certFile, '--tls-key', certs.server.keyFile,
    '--kafka-port', String(ports.kafka), '--kafka-tls-port', String(ports.kafkaTls), '--amqp-port', String(ports.amqp), '--amqp-tls-port', String(ports.amqpTls),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
await lineMatching(broker, /^Wharf ready/);

type Transport = 'plaintext' | 'tls';
const kcatTarget = (transport: Transport) =>
  transport === 'tls' ? `-b localhost:${ports.kafkaTls} -X security.protocol=ssl -X ssl.ca.location=${certs.ca.certFile}` : `-b 127.0.0.1:${ports.kafka}`;

interface Measured {
  recordsPerSecond: number;
  brokerCpu: number;
  clientCpu: number;
}

async function measured(script: string, records: number): Promise<Measured> {
  const before = cpuSeconds(broker.pid!);
  const run = await shell(script);
  return { recordsPerSecond: records / run.seconds, brokerCpu: cpuSeconds(broker.pid!) - before, clientCpu: run.cpu };
}

/** One AMQP cell through bench/workers/amqp-client.ts; amqps clients trust the test CA through NODE_EXTRA_CA_CERTS. */
async function amqpCell(transport: Transport, queue: string): Promise<Measured> {
  const url = transport === 'tls' ? `amqps://guest:guest@localhost:${ports.amqpTls}` : `amqp://guest:guest@127.0.0.1:${ports.amqp}`;
  const worker = (args: string[]) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/workers/amqp-client.ts'), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_EXTRA_CA_CERTS: certs.ca.certFile } });
    return Object.assign(child, { exited: new Promise((resolve) => child.once('exit', resolve)) });
  };
  const consumer = worker(['consume', url, queue, String(AMQP_MESSAGES), '0']);
  await lineFields(consumer, 'ready');
  const before = cpuSeconds(broker.pid!);
  const publisher = worker(['publish', url, queue, String(AMQP_MESSAGES), '1024', '0', '0']);
  const [, first] = await lineFields(publisher, 'first');
  const [, last] = await lineFields(consumer, 'last');
  await Promise.all([publisher.exited, consumer.exited]);
  return { recordsPerSecond: (AMQP_MESSAGES * 1000) / (Number(last) - Number(first)), brokerCpu: cpuSeconds(broker.pid!) - before, clientCpu: Number.NaN };
}

interface Cell {
  label: string;
  target: string;
  run(transport: Transport, run: number): Promise<Measured>;
}

const cells: Cell[] = [];
for (const bytes of [100, 1024]) {
  const records = bytes === 100 ? RECORDS : Math.round(RECORDS / 4);
  const input = path.join(TMP, `records-${bytes}.txt`);
  fs.writeFileSync(input, `${'x'.repeat(bytes - 1)}\n`.repeat(records));
  const size = bytes === 100 ? '100 B' : '1 KiB';
  const topic = (transport: Transport, run: number) => `bench-${bytes}-${transport}-${run}`;
  cells.push({
    label: `kcat -P, ${size}, acks=1`,
    target: 'TLS ≥ 0.6×',
    run: (transport, run) => measured(`kcat -P ${kcatTarget(transport)} -t ${topic(transport, run)} -p 0 ${PRODUCER_FLAGS.join(' ')} -l ${input}`, records),
  });
  cells.push({
    label: `kcat -C from the start, ${size}`,
    target: 'TLS ≥ 0.6×',
    run: (transport, run) => measured(`kcat -C ${kcatTarget(transport)} -t ${topic(transport, run)} -p 0 -o beginning -c ${records} -q -X fetch.message.max.bytes=1048576 > /dev/null`, records),
  });
}
cells.push({ label: 'AMQP 1 KiB, transient, noAck (amqplib)', target: '', run: (transport, run) => amqpCell(transport, `bench-tls-transient-${transport}-${run}`) });

const results = new Map<Cell, Record<Transport, Measured[]>>(cells.map((cell) => [cell, { plaintext: [], tls: [] }]));
for (let run = 0; run < RUNS; run++) {
  for (const cell of cells) {
    for (const transport of (run % 2 === 0 ? ['plaintext', 'tls'] : ['tls', 'plaintext']) as Transport[]) {
      const m = await cell.run(transport, run);
      process.stderr.write(`${cell.label}, ${transport}: ${fmt(m.recordsPerSecond)}/s\n`);
      results.get(cell)![transport].push(m);
    }
  }
}
await stopper(broker)();

const cpu = (ms: Measured[]) => {
  const client = median(ms.map((m) => m.clientCpu));
  return `${median(ms.map((m) => m.brokerCpu)).toFixed(2)} s${Number.isNaN(client) ? '' : ` / ${client.toFixed(2)} s`}`;
};
printTable(
  `TLS vs plaintext on one broker, median of ${RUNS} (kcat: ${fmt(RECORDS)} × 100 B, ${fmt(RECORDS / 4)} × 1 KiB; AMQP: ${fmt(AMQP_MESSAGES)} msgs; CPU: broker / client seconds)`,
  ['cell', 'plaintext /s', 'TLS /s', 'TLS/plain', 'target', 'CPU plaintext', 'CPU TLS'],
  [...results].map(([cell, r]) => {
    const plain = median(r.plaintext.map((m) => m.recordsPerSecond));
    const secure = median(r.tls.map((m) => m.recordsPerSecond));
    return [cell.label, fmt(plain), fmt(secure), `${(secure / plain).toFixed(2)}×`, cell.target, cpu(r.plaintext), cpu(r.tls)];
  }),
);
certs.remove();
fs.rmSync(TMP, { recursive: true, force: true });
