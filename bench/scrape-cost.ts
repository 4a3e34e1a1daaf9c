/**
 * What a /metrics scrape costs the broker's event-loop thread (its CPU time as the scheduler counts it), in-process, on the objects of bench/admin (10,000 Kafka
 * partitions with a record and a committed offset each, 1,000 durable AMQP queues with a message each):
 *  - idle: broker CPU per GET /metrics (curl in a child process, so the reader's work is not counted), and the
 *    CPU of writing the exposition alone (Metrics.scrapeChunks, no HTTP);
 *  - under traffic (kcat -P into one partition and an amqplib publisher → consumer, both in child processes): the
 *    CPU of writing the exposition, sampled once a second as a scraper would, each sample made in one piece
 *    (the scrape's slicing turned off) so that the traffic's work between slices is not counted.
 * BENCH_SCRAPE_SAMPLES (20) scrapes per measurement.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TOKENS, type Metrics, type OffsetStore, type TopicRegistry } from '../core/index.ts';
import { kafka } from '../plugins/kafka/index.ts';
import { rabbit } from '../plugins/rabbit/index.ts';
import { startAdmin } from '../test/helpers/admin.ts';
import { fmt, median, printTable, shell } from './harness.ts';
import { queuesWithAMessage, recordInEveryPartition } from './lib/metrics-objects.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TMP = path.join(ROOT, '.bench-tmp/scrape-cost');
const SAMPLES = Number(process.env.BENCH_SCRAPE_SAMPLES ?? 20);
const TOPICS = 100;
const PARTITIONS = 100;
const QUEUES = 1000;
const RECORD = 'x'.repeat(99);

const broker = await startAdmin([kafka(), rabbit()], { kafka: { port: 'auto' }, amqp: { port: 'auto' } });
const metrics = broker.broker.get<Metrics>(TOKENS.Metrics);
const topics = broker.broker.get<TopicRegistry>(TOKENS.TopicRegistry);
const offsets = broker.broker.get<OffsetStore>(TOKENS.OffsetStore);
const kafkaAddress = `127.0.0.1:${broker.port('kafka')}`;
const amqpUrl = `amqp://guest:guest@127.0.0.1:${broker.port('amqp')}`;

const names = Array.from({ length: TOPICS }, (_, i) => `metrics-topic-${i}`);
for (const name of names) await topics.create(name, { partitions: PARTITIONS });
await recordInEveryPartition(kafkaAddress, names, PARTITIONS, RECORD);
for (const topic of names) await offsets.commit('bench-group', Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 1 })));
await queuesWithAMessage(amqpUrl, QUEUES, RECORD);

/** CPU time of the broker's thread (the event loop's: not GC helpers' or other threads'), ms, from the scheduler's account. */
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
const threadCpu = () => Number(fs.readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]) / 1e6;
const cpuMs = (start: number) => threadCpu() - start;

/** CPU of one exposition written in one piece (no HTTP). */
async function writeOnce(): Promise<{ ms: number; bytes: number }> {
  const start = threadCpu();
  const chunks = await metrics.scrapeChunks();
  const ms = cpuMs(start);
  return { ms, bytes: chunks.reduce((total, chunk) => total + chunk.length, 0) };
}

// Slices off: a measured scrape is one piece of work, whatever else the event loop has to do.
(metrics.constructor as unknown as { SLICE_MS: number }).SLICE_MS = Number.POSITIVE_INFINITY;
for (let i = 0; i < 3; i++) await writeOnce();
const idleWrite: number[] = [];
let body = 0;
for (let i = 0; i < SAMPLES; i++) {
  const { ms, bytes } = await writeOnce();
  idleWrite.push(ms);
  body = bytes;
}

/** Broker CPU per GET /metrics, idle: a child process scrapes SAMPLES times in a row, reading and dropping the body. */
const SCRAPER = `const http = require('node:http');
const once = () => new Promise((resolve, reject) => http.get(process.argv[1], (r) => { r.on('data', () => undefined); r.on('end', resolve); r.on('error', reject); }).on('error', reject));
(async () => { for (let i = 0; i < Number(process.argv[2]); i++) await once(); })();`;
const scrapeInChild = async (count: number) => {
  const child = spawn(process.execPath, ['-e', SCRAPER, `${broker.base}/metrics`, String(count)], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
};
await scrapeInChild(3);
const httpStart = threadCpu();
const httpWallStart = performance.now();
await scrapeInChild(SAMPLES);
const idleHttp = cpuMs(httpStart) / SAMPLES;
const idleHttpWall = (performance.now() - httpWallStart) / SAMPLES;

// Traffic, until the samples are taken: kcat into one partition, again and again, and an AMQP publisher → consumer.
fs.mkdirSync(TMP, { recursive: true });
const input = path.join(TMP, 'records.txt');
fs.writeFileSync(input, `${RECORD}\n`.repeat(500_000));
let sampling = true;
const kcatLoop = (async () => {
  while (sampling) await shell(`kcat -P -b ${kafkaAddress} -t load -p 0 -X acks=1 -X linger.ms=10 -X batch.num.messages=100000 -l ${input}`);
})();
const worker = (args: string[]) => spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/workers/amqp-client.ts'), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
const amqpWorkers = [worker(['consume', amqpUrl, 'load', '100000000', '0', '0']), worker(['publish', amqpUrl, 'load', '100000000', '16', '0', '0'])];
const loadedWrite: number[] = [];
await new Promise((resolve) => setTimeout(resolve, 3000));
while (loadedWrite.length < SAMPLES) {
  loadedWrite.push((await writeOnce()).ms);
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
sampling = false;
for (const child of amqpWorkers) child.kill('SIGTERM');
await kcatLoop;

printTable(`broker CPU per scrape, ${fmt(TOPICS * PARTITIONS)} partitions with a committed offset each, ${fmt(QUEUES)} queues (${fmt(body / 1024)} KiB body)`, ['measurement', 'median', 'min–max', 'samples'], [
  ['idle: GET /metrics (a child process scraping in a row)', `${idleHttp.toFixed(1)} ms`, '(mean)', String(SAMPLES)],
  ['  its answer time (wall, the child process started included)', `${idleHttpWall.toFixed(1)} ms`, '(mean)', String(SAMPLES)],
  ['idle: exposition written, no HTTP', `${median(idleWrite).toFixed(1)} ms`, `${Math.min(...idleWrite).toFixed(1)}–${Math.max(...idleWrite).toFixed(1)}`, String(idleWrite.length)],
  ['under traffic: exposition written, no HTTP', `${median(loadedWrite).toFixed(1)} ms`, `${Math.min(...loadedWrite).toFixed(1)}–${Math.max(...loadedWrite).toFixed(1)}`, String(loadedWrite.length)],
]);
console.log(`load average (1 min): ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs`);
await broker.stop();
fs.rmSync(TMP, { recursive: true, force: true });
