/**
 * For bench/rocket: schedules <count> 100 B entries in a DelayScheduler on storage-fs, due over 20 s from
 * the end of scheduling, and measures firing lateness and peak RSS. Prints
 * "result <peakRssMiB> <idleRssMiB> <p50> <p99> <max> <setTimeoutP99> <schedulePerSecond>".
 */
import fs from 'node:fs';
import { AckStateStore, createRootLogger, DelayScheduler, SegmentedStorageEngine, SingleNodeReplicator, systemClock } from '../../core/index.ts';
import { FsSegmentStore } from '../../plugins/storage-fs/index.ts';

const [dir, countText] = process.argv.slice(2) as [string, string];
const count = Number(countText);
const WINDOW_MS = 20_000;
const rssMiB = (): number => process.memoryUsage.rss() / 1048576;

fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });

// Reference: how late a plain 1 ms setTimeout fires on this machine right now.
const referenceLateness: number[] = [];
for (let i = 0; i < 500; i++) {
  const due = performance.now() + 1;
  await new Promise((r) => setTimeout(r, 1));
  referenceLateness.push(performance.now() - due);
}
const idle = rssMiB();

const logger = createRootLogger('silent');
const engine = new SegmentedStorageEngine(new FsSegmentStore(dir), new SingleNodeReplicator(), systemClock, logger);
await engine.open();
const log = await engine.openLog({ topic: 'delayed', partition: 0 }, { segmentBytes: 64 * 1048576, segmentMs: 1e12, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 1024, flush: { kind: 'never' } });
const store = await AckStateStore.open(engine, systemClock, logger);
const scheduler = await DelayScheduler.open('bench', log, store, systemClock, logger);
let peak = idle;
const sampler = setInterval(() => (peak = Math.max(peak, rssMiB())), 100);

const lateness = new Float64Array(count);
let fired = 0;
let allFired: () => void;
const done = new Promise<void>((resolve) => (allFired = resolve));
scheduler.onDue(async (entries) => {
  const now = Date.now();
  for (const entry of entries) lateness[fired++] = now - entry.dueAt;
  if (fired >= count) allFired();
});

const payload = Buffer.alloc(100, 'd');
const started = performance.now();
const base = Date.now() + 5_000 + count / 50;
const pending: Promise<number>[] = [];
for (let i = 0; i < count; i++) {
  pending.push(scheduler.schedule(base + ((i * 7919) % count) * (WINDOW_MS / count), { value: payload }));
  if (pending.length >= 1000) {
    await Promise.all(pending);
    pending.length = 0;
  }
}
await Promise.all(pending);
const scheduleSeconds = (performance.now() - started) / 1000;
peak = Math.max(peak, rssMiB());
await done;
clearInterval(sampler);
const sorted = lateness.sort();
const pct = (values: ArrayLike<number>, p: number) => values[Math.min(values.length - 1, Math.floor(values.length * p))]!;
referenceLateness.sort((a, b) => a - b);
process.stdout.write(`result ${peak.toFixed(0)} ${idle.toFixed(0)} ${pct(sorted, 0.5).toFixed(0)} ${pct(sorted, 0.99).toFixed(0)} ${sorted[sorted.length - 1]!.toFixed(0)} ${pct(referenceLateness, 0.99).toFixed(2)} ${(count / scheduleSeconds).toFixed(0)}\n`);
await scheduler.close();
await store.close();
await engine.close();
