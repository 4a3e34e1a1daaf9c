/**
 * Log compaction: how fast the cleaner works through a dirty log (MB/s), beside a plain scan of the
 * same log that decodes every record as the cleaner's first phase does; and what a pass costs a
 * producer on the same broker: p50/p99 of kafkajs acks=all sends of 1 KiB every 5 ms to another topic
 * while the cleaner runs, beside the same probe with the broker idle (alternating, same run). Each run
 * cleans three times: with the defaults (the record work on the cleaner thread, the cleaner's I/O limited to
 * --topics-log-cleaner-io-max-bytes-per-second), on the thread without that limit, and on the event loop
 * (--topics-log-cleaner-threads 0), so they are compared on the same machine state.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createBroker, encodeRecordBatch, forEachRecord, RecordBatch, TOKENS, type Broker, type PartitionLog, type SegmentedStorageEngine, type TopicRegistry } from '../core/index.ts';
import { kafka } from '../plugins/kafka/index.ts';
import { fsStorage } from '../plugins/storage-fs/index.ts';
import { MiB, fmt, lineFields, lineMatching, median, percentile, printTable, timed } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const DATA = path.join(ROOT, '.bench-tmp/compaction');
const DIRTY_BYTES = 128 * MiB;
const KEYS = 50_000;
const RECORDS_PER_BATCH = 100;
const RUNS = 5;
const PROBE_INTERVAL_MS = 5;

v8.setFlagsFromString('--expose-gc');
/**
 * A full collection of this process's heap. The broker shares the process with the bench, which fills each
 * 128 MiB log through encodeRecordBatch: that garbage is collected before each measured phase, so the pauses
 * the probe sees are the broker's own.
 */
const collectGarbage = vm.runInNewContext('gc') as () => void;

/** Fills `log` with batches of 100 records of 100 B under random keys among KEYS, to `bytes`. */
async function fill(log: PartitionLog, bytes: number): Promise<void> {
  let random = 42;
  const next = () => {
    random ^= random << 13;
    random ^= random >>> 17;
    random ^= random << 5;
    return random >>> 0;
  };
  const value = Buffer.alloc(100, 'v');
  while (log.size < bytes) {
    const records = Array.from({ length: RECORDS_PER_BATCH }, () => ({ key: Buffer.from(`key-${next() % KEYS}`), value }));
    await log.append(encodeRecordBatch({ records }), { acks: 'leader' });
  }
  await log.roll();
  await log.flush();
}

/** Seconds to read the whole log with `read` and decode every record. */
async function scanSeconds(log: PartitionLog): Promise<number> {
  return timed(async () => {
    let records = 0;
    for (let offset = log.logStartOffset; offset < log.logEndOffset; ) {
      const { records: bytes } = await log.read(offset, 4 * MiB, log.logEndOffset);
      if (bytes.length === 0) break;
      for (let pos = 0; pos < bytes.length; ) {
        const batch = new RecordBatch(bytes, pos);
        forEachRecord(bytes, pos, () => records++);
        offset = batch.nextOffset;
        pos += batch.sizeInBytes;
      }
    }
    return records;
  });
}

/** Runs the latency probe while `during` runs; returns every send's latency in ms. */
async function probe(bootstrap: string, during: () => Promise<unknown>): Promise<number[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/workers/kafkajs-paced.ts'), bootstrap, 'live', String(PROBE_INTERVAL_MS)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await lineMatching(child, /^ready/);
  await during();
  child.stdin!.end();
  const fields = await lineFields(child, 'sent');
  return fields[9]!.split(',').map(Number);
}

const quantiles = (latencies: readonly number[]): string => `${fmt(percentile(latencies, 50), 2)} / ${fmt(percentile(latencies, 99), 2)}`;

async function main(): Promise<void> {
  fs.rmSync(DATA, { recursive: true, force: true });
  const broker: Broker = await createBroker({
    plugins: [fsStorage(), kafka()],
    config: { logLevel: 'warn', host: '127.0.0.1', dataDir: DATA, kafka: { port: 'auto' }, topics: { logCleanerBackoffMs: 3_600_000 } },
  });
  await broker.start();
  const bootstrap = `127.0.0.1:${broker.listeners().find((l) => l.protocol === 'kafka')!.port}`;
  const registry = broker.get<TopicRegistry>(TOKENS.TopicRegistry);
  const engine = broker.get<SegmentedStorageEngine>(TOKENS.StorageEngine);
  await registry.create('live', { partitions: 1 });
  const defaultIoLimit = engine.cleanerIoMaxBytesPerSecond;
  const modes = [
    { name: 'cleaner thread', thread: true, ioLimit: defaultIoLimit },
    { name: 'thread, no I/O limit', thread: true, ioLimit: 0 },
    { name: 'event loop', thread: false, ioLimit: defaultIoLimit },
  ];
  // The cleaner thread starts with the first pass of the process (from the TypeScript sources here, through
  // tsx): a small pass first, so that no measured pass includes that start.
  await registry.create('warm-up', { partitions: 1, config: { cleanupPolicy: 'compact', segmentBytes: 1024 * 1024 } });
  await fill(registry.log('warm-up', 0)!, 2 * MiB);
  await registry.log('warm-up', 0)!.compact();
  await registry.delete('warm-up');
  const rows: string[][] = [];
  const results = modes.map(() => ({ cleaner: [] as number[], scan: [] as number[], busy: [] as number[][], idle: [] as number[][] }));
  for (let run = 0; run < RUNS; run++) {
    for (const [m, mode] of modes.entries()) {
      const r = results[m]!;
      const name = `changelog-${run}-${m}`;
      // A log takes the engine's setting when it opens.
      engine.cleanerThread = mode.thread;
      engine.cleanerIoMaxBytesPerSecond = mode.ioLimit;
      await registry.create(name, { partitions: 1, config: { cleanupPolicy: 'compact', segmentBytes: 16 * MiB } });
      const log = registry.log(name, 0)!;
      await fill(log, DIRTY_BYTES);
      const dirty = log.size;
      r.scan.push(dirty / MiB / (await scanSeconds(log)));
      let seconds = 0;
      collectGarbage();
      const busy = await probe(bootstrap, async () => (seconds = await timed(() => log.compact())));
      r.busy.push(busy);
      r.cleaner.push(dirty / MiB / seconds);
      collectGarbage();
      const idle = await probe(bootstrap, () => new Promise((resolve) => setTimeout(resolve, seconds * 1000)));
      r.idle.push(idle);
      rows.push([String(run + 1), mode.name, fmt(dirty / MiB), fmt(log.size / MiB, 1), fmt(seconds, 2), fmt(dirty / MiB / seconds, 1), fmt(r.scan[run]!, 1), quantiles(busy), quantiles(idle)]);
      await registry.delete(name);
    }
  }
  printTable(
    `Compaction of ${fmt(DIRTY_BYTES / MiB)} MiB (100 B values, ${fmt(KEYS)} keys, 16 MiB segments), storage-fs; probe: kafkajs acks=all 1 KiB every ${PROBE_INTERVAL_MS} ms`,
    ['run', 'record work on', 'dirty MiB', 'after MiB', 'pass s', 'cleaner MB/s', 'scan+decode MB/s', 'probe p50/p99 ms (cleaning)', 'probe p50/p99 ms (idle)'],
    rows,
  );
  for (const [m, mode] of modes.entries()) {
    const { cleaner, scan, busy, idle } = results[m]!;
    const p99Busy = percentile(busy.flat(), 99);
    const p99Idle = percentile(idle.flat(), 99);
    console.log(`\n${mode.name}: cleaner ${fmt(median(cleaner), 1)} MB/s (median), a plain scan that decodes the same records ${fmt(median(scan), 1)} MB/s`);
    console.log(
      `${mode.name}: produce p99 over all runs' sends (${busy.flat().length} while cleaning, ${idle.flat().length} idle): ${fmt(p99Busy, 2)} ms vs ${fmt(p99Idle, 2)} ms: ${fmt(p99Busy / p99Idle, 2)}x (target <= 1.5x); p50 ${fmt(percentile(busy.flat(), 50), 2)} vs ${fmt(percentile(idle.flat(), 50), 2)} ms`,
    );
  }
  await broker.stop();
  fs.rmSync(DATA, { recursive: true, force: true });
}

await main();
