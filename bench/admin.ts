/**
 * The admin HTTP server's cost, on one broker (storage-fs, which keeps at most what the open-file limit leaves of its
 * segment files open; BENCH_ADMIN_STORAGE=memory for storage-memory) holding 10,000 Kafka partitions
 * (100 topics × 100, one record each, a group with an offset committed on every one) and 1,000 durable AMQP
 * queues (one message each):
 *  - GET /metrics: answer time (median and max of 20 scrapes after 3 warm-ups), body size, series;
 *  - broker throughput with a scraper fetching /metrics every second vs without, runs alternating in the
 *    same process: kcat -P (100 B records, acks=1) and amqplib publisher → consumer (16 B, transient, noAck).
 * BENCH_ADMIN_RUNS (5) pairs of runs, BENCH_ADMIN_RECORDS (1,500,000) kcat records per run, BENCH_ADMIN_MESSAGES
 * (200,000) AMQP messages per run; BENCH_ADMIN_PROFILE=1 writes the broker's CPU profile (node --cpu-prof) to .bench-tmp/admin/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { cpuSeconds, fmt, freePort, lineFields, lineMatching, median, printTable, shell, stopper } from './harness.ts';
import { queuesWithAMessage, recordInEveryPartition } from './lib/metrics-objects.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TMP = path.join(ROOT, '.bench-tmp/admin');
const RUNS = Number(process.env.BENCH_ADMIN_RUNS ?? 5);
const RECORDS = Number(process.env.BENCH_ADMIN_RECORDS ?? 1_500_000);
const MESSAGES = Number(process.env.BENCH_ADMIN_MESSAGES ?? 200_000);
const PROFILE = process.env.BENCH_ADMIN_PROFILE === '1';
const STORAGE = process.env.BENCH_ADMIN_STORAGE ?? 'fs';
const TOPICS = 100;
const PARTITIONS = 100;
const QUEUES = 1000;
const SCRAPES = 20;
const RECORD = 'x'.repeat(99);
const PRODUCER_FLAGS = ['-X', 'acks=1', '-X', 'linger.ms=10', '-X', 'batch.num.messages=100000', '-X', 'batch.size=1000000', '-X', 'queue.buffering.max.kbytes=2097151', '-X', 'queue.buffering.max.messages=10000000'];
const AUTH = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' };

interface Wharf {
  child: ChildProcess;
  kafka: string;
  amqp: string;
  http: string;
  stop(): Promise<void>;
}

async function startWharf(): Promise<Wharf> {
  const [kafkaPort, amqpPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const profile = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', TMP] : [];
  const storage = STORAGE === 'fs' ? ['--storage', 'fs', '--data-dir', path.join(TMP, 'data')] : ['--storage', STORAGE];
  const args = ['start', ...storage, '--kafka-port', String(kafkaPort), '--amqp-port', String(amqpPort), '--rocket-port', '0', '--stream-port', '0', '--http-port', String(httpPort), '--groups-initial-rebalance-delay-ms', '0', '--host', '127.0.0.1', '--log-level', 'warn'];
  const child = spawn(process.execPath, [...profile, path.join(ROOT, 'bin/wharf.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  await lineMatching(child, /^Wharf ready/);
  return { child, kafka: `127.0.0.1:${kafkaPort}`, amqp: `amqp://guest:guest@127.0.0.1:${amqpPort}`, http: `http://127.0.0.1:${httpPort}`, stop: stopper(child) };
}

async function request(method: string, url: string, body?: unknown): Promise<void> {
  const response = await fetch(url, { method, headers: AUTH, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

/** 100 topics × 100 partitions with a record in each and a group's offset on each; 1,000 durable queues with a message each. */
async function populate(wharf: Wharf): Promise<void> {
  const topics = Array.from({ length: TOPICS }, (_, i) => `metrics-topic-${i}`);
  for (const topic of topics) await request('PUT', `${wharf.http}/api/wharf/kafka/topics/${topic}`, { partitions: PARTITIONS });
  await recordInEveryPartition(wharf.kafka, topics, PARTITIONS, RECORD);
  const kafka = new Kafka({ clientId: 'bench-admin', brokers: [wharf.kafka], logLevel: logLevel.NOTHING });
  // One consumer reads every partition and commits: a committed offset (and a lag series) per partition.
  const consumer = kafka.consumer({ groupId: 'bench-group' });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({ eachMessage: async () => undefined });
  const committed = async () => {
    const response = await fetch(`${wharf.http}/api/wharf/kafka/groups/bench-group`, { headers: AUTH });
    return response.status === 200 ? ((await response.json()) as { offsets: unknown[] }).offsets.length : 0;
  };
  while ((await committed()) < TOPICS * PARTITIONS) await new Promise((resolve) => setTimeout(resolve, 1000));
  await consumer.disconnect();

  await queuesWithAMessage(wharf.amqp, QUEUES, RECORD);
}

async function scrape(wharf: Wharf): Promise<{ ms: number; bytes: number; series: number }> {
  const start = performance.now();
  const response = await fetch(`${wharf.http}/metrics`);
  const text = await response.text();
  const ms = performance.now() - start;
  return { ms, bytes: Buffer.byteLength(text), series: text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length };
}

/**
 * Scrapes every second until stopped, as Prometheus would; returns the scrape times and the broker CPU
 * each scrape cost is not separable from the load's, so it is measured idle above. The body is read and
 * dropped chunk by chunk (node:http, no buffering or parsing): the scraper stands for a Prometheus on
 * another machine, and on this 2-CPU machine its own work would take CPU from the broker and kcat.
 */
function scraper(wharf: Wharf): { stop(): Promise<number[]> } {
  const times: number[] = [];
  let running = true;
  const once = () =>
    new Promise<void>((resolve, reject) => {
      http.get(`${wharf.http}/metrics`, (response) => {
        response.on('data', () => undefined);
        response.on('end', resolve);
        response.on('error', reject);
      }).on('error', reject);
    });
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await once();
      times.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (performance.now() - started))));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return times;
    },
  };
}

function amqpClient(args: string[]): ChildProcess & { exited: Promise<unknown> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/workers/amqp-client.ts'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return Object.assign(child, { exited: new Promise((resolve) => child.once('exit', resolve)) });
}

let seq = 0;
async function amqpRun(wharf: Wharf): Promise<number> {
  const queue = `load-${seq++}`;
  const consumer = amqpClient(['consume', wharf.amqp, queue, String(MESSAGES), '0', '0']);
  await lineFields(consumer, 'ready');
  const publisher = amqpClient(['publish', wharf.amqp, queue, String(MESSAGES), '16', '0', '0']);
  const [, first] = await lineFields(publisher, 'first');
  const [, last] = await lineFields(consumer, 'last');
  await Promise.all([publisher.exited, consumer.exited]);
  return (MESSAGES * 1000) / (Number(last) - Number(first));
}

async function kafkaRun(wharf: Wharf, input: string): Promise<number> {
  const run = await shell(`kcat -P -b ${wharf.kafka} -t load-${seq++} -p 0 ${PRODUCER_FLAGS.join(' ')} -l ${input}`);
  return RECORDS / run.seconds;
}

fs.rmSync(TMP, { recursive: true, force: true });
fs.mkdirSync(TMP, { recursive: true });
const input = path.join(TMP, 'records.txt');
fs.writeFileSync(input, `${RECORD}\n`.repeat(RECORDS));
const wharf = await startWharf();
const populating = performance.now();
await populate(wharf);
process.stderr.write(`populated in ${((performance.now() - populating) / 1000).toFixed(1)} s\n`);

for (let i = 0; i < 3; i++) await scrape(wharf);
const scrapes: Array<{ ms: number; bytes: number; series: number }> = [];
const cpuBefore = cpuSeconds(wharf.child.pid!);
for (let i = 0; i < SCRAPES; i++) scrapes.push(await scrape(wharf));
const cpuPerScrape = ((cpuSeconds(wharf.child.pid!) - cpuBefore) * 1000) / SCRAPES;
const times = scrapes.map((s) => s.ms);
printTable(`GET /metrics with ${fmt(TOPICS * PARTITIONS)} partitions, ${fmt(QUEUES)} queues and a group committed on every partition (${SCRAPES} scrapes)`, ['measurement', 'wharf', 'target'], [
  ['answer time, median', `${median(times).toFixed(1)} ms`, '< 100 ms'],
  ['answer time, max', `${Math.max(...times).toFixed(1)} ms`, ''],
  ['broker CPU per scrape', `${cpuPerScrape.toFixed(0)} ms`, '(answer time on an idle machine)'],
  ['load average (1 min) while measured', os.loadavg()[0]!.toFixed(1), `${os.cpus().length} CPUs`],
  ['body', `${fmt(scrapes[0]!.bytes / 1024)} KiB, ${fmt(scrapes[0]!.series)} series`, ''],
]);

type Side = { with: number[]; without: number[] };
const side = (): Side => ({ with: [], without: [] });
const load = { kafka: side(), amqp: side() };
/** The broker's CPU per record / message in each run (µs): what a scrape costs under load, insensitive to other processes' share of the CPUs. */
const cpu = { kafka: side(), amqp: side() };
const scrapedDuringLoad: number[] = [];
const brokerCpu = () => cpuSeconds(wharf.child.pid!);
for (let run = 0; run < RUNS; run++) {
  // Alternate which comes first, so a machine that slows down mid-run slows both alike.
  for (const scraped of run % 2 === 0 ? [false, true] : [true, false]) {
    const key = scraped ? 'with' : 'without';
    const s = scraped ? scraper(wharf) : undefined;
    const cpuStart = brokerCpu();
    const kafkaRate = await kafkaRun(wharf, input);
    const cpuMiddle = brokerCpu();
    const amqpRate = await amqpRun(wharf);
    const cpuEnd = brokerCpu();
    if (s) scrapedDuringLoad.push(...(await s.stop()));
    load.kafka[key].push(kafkaRate);
    load.amqp[key].push(amqpRate);
    cpu.kafka[key].push(((cpuMiddle - cpuStart) * 1e6) / RECORDS);
    cpu.amqp[key].push(((cpuEnd - cpuMiddle) * 1e6) / MESSAGES);
    process.stderr.write(`run ${run + 1}, ${scraped ? 'scraped every second' : 'not scraped'}: kcat ${fmt(kafkaRate)} rec/s (broker ${cpu.kafka[key].at(-1)!.toFixed(2)} µs CPU/record), amqp ${fmt(amqpRate)} msg/s (${cpu.amqp[key].at(-1)!.toFixed(2)} µs CPU/message)\n`);
  }
}
await wharf.stop();

/** The ratio of each pair (its two runs are adjacent in time, so a machine that drifts affects both alike), then their median. */
const pairRatios = (rates: Side) => rates.with.map((w, i) => w / rates.without[i]!);
const ratioRow = (label: string, rates: Side, unit: string, digits = 0) => [
  label,
  `${fmt(median(rates.without), digits)} ${unit}`,
  `${fmt(median(rates.with), digits)} ${unit}`,
  `${median(pairRatios(rates)).toFixed(3)}×`,
  pairRatios(rates).map((r) => r.toFixed(2)).join(' '),
];
const KCAT = `kcat -P, ${fmt(RECORDS)} × 100 B, acks=1`;
const AMQPLIB = `amqplib, ${fmt(MESSAGES)} × 16 B, transient, noAck`;
printTable(`broker throughput with /metrics scraped every second vs not, same broker (the objects above), ${RUNS} alternating pairs; target ≥ 0.97×`, ['load', 'not scraped (median)', 'scraped (median)', 'ratio (median of pairs)', 'pairs'], [
  ratioRow(KCAT, load.kafka, 'rec/s'),
  ratioRow(AMQPLIB, load.amqp, 'msg/s'),
]);
printTable("broker CPU per record / message, scraped vs not (the scrapes' share of the broker's work; throughput follows it when the broker is the bottleneck)", ['load', 'not scraped (median)', 'scraped (median)', 'ratio (median of pairs)', 'pairs'], [
  ratioRow(KCAT, cpu.kafka, 'µs', 2),
  ratioRow(AMQPLIB, cpu.amqp, 'µs', 2),
]);
console.log(`load average (1 min) at the end: ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs`);
console.log(`scrapes during load: ${scrapedDuringLoad.length}, median ${median(scrapedDuringLoad).toFixed(1)} ms, max ${Math.max(...scrapedDuringLoad).toFixed(1)} ms`);
if (!PROFILE) fs.rmSync(TMP, { recursive: true, force: true });
