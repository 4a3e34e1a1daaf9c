/**
 * Storage throughput: append and read of 1 MiB batches (100 B and 1 KiB records) through both engines,
 * flush `never` and `always` (16 concurrent appenders), each beside the raw syscalls on the same bytes
 * and the same disk in the same run; then recovery of a 1 GiB log with a torn tail, and the start of the same
 * log after a clean shutdown.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  createRootLogger,
  encodeRecordBatch,
  SegmentedStorageEngine,
  SingleNodeReplicator,
  systemClock,
  type FlushPolicy,
  type LogConfig,
  type SegmentStore,
} from '../core/index.ts';
import { FsSegmentStore } from '../plugins/storage-fs/index.ts';
import { MemorySegmentStore } from '../plugins/storage-memory/index.ts';
import { MiB, fmt, median, printTable, spread, timed } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '../.bench-tmp/storage');
const RUNS = 7;
const VOLUME = 1024 * MiB;
const BATCH_BYTES = MiB;
const APPENDERS = 16;
const logger = createRootLogger('silent');

function makeBatches(recordSize: number): Buffer[] {
  const perBatch = Math.floor(BATCH_BYTES / (recordSize + 8));
  const template = encodeRecordBatch({ records: Array.from({ length: perBatch }, (_, i) => ({ value: Buffer.alloc(recordSize, i & 0xff) })) });
  return Array.from({ length: Math.ceil(VOLUME / template.length) }, () => Buffer.from(template));
}

function logConfig(flush: FlushPolicy): LogConfig {
  return { segmentBytes: 1024 * MiB, segmentMs: 1e12, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 4096, flush };
}

function freshDir(name: string): string {
  const dir = path.join(ROOT, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

async function engineAppend(store: SegmentStore, batches: Buffer[], flush: FlushPolicy, appenders: number) {
  const engine = new SegmentedStorageEngine(store, new SingleNodeReplicator(), systemClock, logger);
  await engine.open();
  const log = await engine.openLog({ topic: 'bench', partition: 0 }, logConfig(flush));
  let next = 0;
  const seconds = await timed(() =>
    Promise.all(
      Array.from({ length: appenders }, async () => {
        while (next < batches.length) await log.append(batches[next++]!);
      }),
    ),
  );
  return { seconds, log, engine };
}

async function engineRead(log: Awaited<ReturnType<typeof engineAppend>>['log']): Promise<number> {
  let bytes = 0;
  const seconds = await timed(async () => {
    for (let offset = 0; offset < log.logEndOffset; ) {
      const { records } = await log.read(offset, BATCH_BYTES);
      bytes += records.length;
      offset = nextOffsetAfter(records);
    }
  });
  return bytes / seconds;
}

/** Offset after the last batch in a read: baseOffset + lastOffsetDelta + 1 of the final batch. */
function nextOffsetAfter(records: Buffer): number {
  let pos = 0;
  let next = 0;
  while (pos < records.length) {
    const base = records.readInt32BE(pos) * 2 ** 32 + records.readUInt32BE(pos + 4);
    next = base + records.readInt32BE(pos + 23) + 1;
    pos += 12 + records.readInt32BE(pos + 8);
  }
  return next;
}

function rawWrite(file: string, batches: Buffer[], syncEvery: number): number {
  const fd = fs.openSync(file, 'w');
  let position = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < batches.length; i++) {
    position += fs.writeSync(fd, batches[i]!, 0, batches[i]!.length, position);
    if (syncEvery > 0 && (i + 1) % syncEvery === 0) fs.fdatasyncSync(fd);
  }
  if (syncEvery > 0) fs.fdatasyncSync(fd);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  fs.closeSync(fd);
  return position / seconds;
}

/** Flushes what a measurement left dirty, so the next one starts with a quiet page cache. */
function settle(dir: string): void {
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const fd = fs.openSync(path.join(entry.parentPath, entry.name), 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
}

function rawRead(file: string): number {
  const fd = fs.openSync(file, 'r');
  const size = fs.fstatSync(fd).size;
  const start = process.hrtime.bigint();
  for (let position = 0; position < size; ) {
    const buf = Buffer.allocUnsafe(Math.min(BATCH_BYTES, size - position));
    position += fs.readSync(fd, buf, 0, buf.length, position);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  fs.closeSync(fd);
  return size / seconds;
}

const rate = (bytesPerSecond: number) => `${fmt(bytesPerSecond / MiB)} MiB/s`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

interface Cell {
  label: string;
  wharf: number[];
  reference: number[];
  referenceLabel: string;
  target?: string;
}

async function measure(recordSize: number): Promise<Cell[]> {
  const batches = makeBatches(recordSize);
  const bytes = batches.reduce((n, b) => n + b.length, 0);
  const cells: Record<string, Cell> = {
    fsNever: { label: 'fs append, flush never', wharf: [], reference: [], referenceLabel: 'raw writeSync', target: '≥ 0.8×' },
    fsAlways: { label: `fs append, flush always, ${APPENDERS} appenders`, wharf: [], reference: [], referenceLabel: `raw write + fdatasync every ${APPENDERS} MiB`, target: '≥ 0.7×' },
    perAppend: { label: '  (one fdatasync per append, raw)', wharf: [], reference: [], referenceLabel: `raw write + fdatasync every ${APPENDERS} MiB` },
    fsRead: { label: 'fs read, hot', wharf: [], reference: [], referenceLabel: 'raw readSync, 1 MiB', target: '≥ 0.8×' },
    memAppend: { label: 'memory append', wharf: [], reference: [], referenceLabel: 'raw writeSync (fs)', target: '≥ 2 GB/s' },
    memRead: { label: 'memory read', wharf: [], reference: [], referenceLabel: 'raw readSync (fs)' },
  };
  for (let run = 0; run < RUNS; run++) {
    const rawDir = freshDir('raw');
    const rawNever = rawWrite(path.join(rawDir, 'never.log'), batches, 0);
    settle(rawDir);
    const rawHot = rawRead(path.join(rawDir, 'never.log'));
    const rawGroup = rawWrite(path.join(rawDir, 'group.log'), batches, APPENDERS);
    const rawEach = rawWrite(path.join(rawDir, 'each.log'), batches, 1);
    fs.rmSync(rawDir, { recursive: true, force: true });

    const neverDir = freshDir('fs-never');
    const never = await engineAppend(new FsSegmentStore(neverDir), batches, { kind: 'never' }, 1);
    cells.fsNever!.wharf.push(bytes / never.seconds);
    cells.fsNever!.reference.push(rawNever);
    settle(neverDir);
    cells.fsRead!.wharf.push(await engineRead(never.log));
    cells.fsRead!.reference.push(rawHot);
    await never.engine.close();
    fs.rmSync(neverDir, { recursive: true, force: true });

    const always = await engineAppend(new FsSegmentStore(freshDir('fs-always')), batches, { kind: 'always' }, APPENDERS);
    cells.fsAlways!.wharf.push(bytes / always.seconds);
    cells.fsAlways!.reference.push(rawGroup);
    cells.perAppend!.wharf.push(rawEach);
    cells.perAppend!.reference.push(rawGroup);
    await always.engine.close();
    fs.rmSync(path.join(ROOT, 'fs-always'), { recursive: true, force: true });

    const memory = await engineAppend(new MemorySegmentStore(), batches.map((b) => Buffer.from(b)), { kind: 'never' }, 1);
    cells.memAppend!.wharf.push(bytes / memory.seconds);
    cells.memAppend!.reference.push(rawNever);
    cells.memRead!.wharf.push(await engineRead(memory.log));
    cells.memRead!.reference.push(rawHot);
    await memory.engine.close();
  }
  return Object.values(cells);
}

async function recoveryOf1GiB(): Promise<{ wharf: number[]; reference: number[]; truncated: number; cleanStart: number[] }> {
  const dir = freshDir('recovery');
  const batches = makeBatches(1024);
  const config = logConfig({ kind: 'never' });
  {
    const engine = new SegmentedStorageEngine(new FsSegmentStore(dir), new SingleNodeReplicator(), systemClock, logger);
    const log = await engine.openLog({ topic: 'recover', partition: 0 }, config);
    for (const b of batches) await log.append(Buffer.from(b));
    await log.flush();
  }
  const logDir = path.join(dir, 'recover-0');
  const segment = path.join(logDir, '00000000000000000000.log');
  const wharf: number[] = [];
  const reference: number[] = [];
  let truncated = 0;
  for (let run = 0; run < 3; run++) {
    fs.rmSync(path.join(logDir, 'checkpoint'), { force: true });
    fs.appendFileSync(segment, Buffer.alloc(777, 0x5a));
    const before = fs.statSync(segment).size;
    const engine = new SegmentedStorageEngine(new FsSegmentStore(dir), new SingleNodeReplicator(), systemClock, logger);
    wharf.push(await timed(() => engine.openLog({ topic: 'recover', partition: 0 }, config)));
    truncated = before - fs.statSync(segment).size;
    const { crc32c } = await import('../core/index.ts');
    reference.push(
      await timed(() => {
        const fd = fs.openSync(segment, 'r');
        const size = fs.fstatSync(fd).size;
        const buf = Buffer.allocUnsafe(8 * MiB);
        for (let position = 0; position < size; ) {
          const n = fs.readSync(fd, buf, 0, Math.min(buf.length, size - position), position);
          crc32c(buf, 0, n);
          position += n;
        }
        fs.closeSync(fd);
      }),
    );
  }
  // A clean shutdown, then a start: its cost is what every ordinary restart pays.
  const cleanStart: number[] = [];
  for (let run = 0; run < 4; run++) {
    const engine = new SegmentedStorageEngine(new FsSegmentStore(dir), new SingleNodeReplicator(), systemClock, logger);
    const seconds = await timed(() => engine.openLog({ topic: 'recover', partition: 0 }, config));
    if (run > 0) cleanStart.push(seconds);
    await engine.close();
  }
  return { wharf, reference, truncated, cleanStart };
}

for (const recordSize of [100, 1024]) {
  const cells = await measure(recordSize);
  printTable(
    `storage, ${recordSize} B records in 1 MiB batches, ${fmt(VOLUME / MiB)} MiB per run, median of ${RUNS} runs (spread in MiB/s)`,
    ['measurement', 'wharf', 'reference', 'ratio', 'target', 'reference is', 'wharf spread'],
    cells.map((c) => [
      c.label,
      rate(median(c.wharf)),
      rate(median(c.reference)),
      ratio(median(c.wharf), median(c.reference)),
      c.target ?? '',
      c.referenceLabel,
      spread(c.wharf.map((v) => v / MiB)),
    ]),
  );
}

const recovery = await recoveryOf1GiB();
printTable(
  'opening a log with one 1 GiB segment: recovery of a torn tail (no clean checkpoint), and a start after a clean shutdown; median of 3',
  ['measurement', 'wharf', 'reference', 'ratio', 'target', 'reference is'],
  [
    [`recover, cut ${recovery.truncated} B`, `${median(recovery.wharf).toFixed(2)} s`, `${median(recovery.reference).toFixed(2)} s`, ratio(median(recovery.wharf), median(recovery.reference)), '< 2 s', 'readSync + CRC-32C of the file'],
    ['start after a clean shutdown', `${median(recovery.cleanStart).toFixed(2)} s`, `${median(recovery.reference).toFixed(2)} s`, ratio(median(recovery.cleanStart), median(recovery.reference)), '< 2 s', 'readSync + CRC-32C of the file'],
  ],
);
fs.rmSync(ROOT, { recursive: true, force: true });
