/**
 * What idempotent producers cost the storage: appends of 4 KiB batches from 8 idempotent producers beside
 * the same bytes without a producer id, and recovery of a 1 GiB log of such batches after a crash
 * (torn tail, no clean checkpoint), with its snapshots and without any (a data directory from before
 * snapshots, which replays the last two segments), beside the same log of plain batches.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  BatchField,
  crc32c,
  createRootLogger,
  encodeRecordBatch,
  SegmentedStorageEngine,
  SingleNodeReplicator,
  systemClock,
  writeInt64,
  type LogConfig,
  type SegmentStore,
} from '../core/index.ts';
import { FsSegmentStore } from '../plugins/storage-fs/index.ts';
import { MemorySegmentStore } from '../plugins/storage-memory/index.ts';
import { MiB, fmt, median, printTable, spread, timed } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '../.bench-tmp/producer-state');
const RUNS = 5;
const BATCH_BYTES = 4096;
const PRODUCERS = 8;
const logger = createRootLogger('silent');
const config: LogConfig = { segmentBytes: 1024 * MiB, segmentMs: 1e12, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 4096, flush: { kind: 'never' } };

const template = (idempotent: boolean) =>
  encodeRecordBatch({
    ...(idempotent ? { producerId: 0, producerEpoch: 0, baseSequence: 0 } : {}),
    records: Array.from({ length: Math.floor(BATCH_BYTES / 108) }, (_, i) => ({ value: Buffer.alloc(100, i) })),
  });
const templates = { plain: template(false), idempotent: template(true) };
const RECORDS_PER_BATCH = templates.plain.readInt32BE(BatchField.lastOffsetDelta) + 1;

/**
 * Batch `i` of a stream of 4 KiB batches of 100 B records. Idempotent ones cycle through the producers
 * with increasing sequences, written into the header with the CRC recomputed.
 */
function batchAt(i: number, idempotent: boolean): Buffer {
  const batch = Buffer.from(idempotent ? templates.idempotent : templates.plain);
  if (idempotent) {
    writeInt64(batch, BatchField.producerId, 1000 + (i % PRODUCERS));
    batch.writeInt32BE(Math.floor(i / PRODUCERS) * RECORDS_PER_BATCH, BatchField.baseSequence);
    batch.writeUInt32BE(crc32c(batch, BatchField.attributes), BatchField.crc);
  }
  return batch;
}

const batchesIn = (volume: number) => Math.ceil(volume / templates.plain.length);

function freshDir(name: string): string {
  const dir = path.join(ROOT, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const engineOn = (store: SegmentStore) => new SegmentedStorageEngine(store, new SingleNodeReplicator(), systemClock, logger);

/** Seconds to append `volume` bytes of batches (made beforehand) to a fresh in-memory log. */
async function appendSeconds(volume: number, idempotent: boolean): Promise<number> {
  const copies = Array.from({ length: batchesIn(volume) }, (_, i) => batchAt(i, idempotent));
  const engine = engineOn(new MemorySegmentStore());
  const log = await engine.openLog({ topic: 'bench', partition: 0 }, config);
  const seconds = await timed(async () => {
    for (const b of copies) await log.append(b);
  });
  await engine.close();
  return seconds;
}

/**
 * Writes just under 1 GiB of batches (one segment) to a log in `dir` and abandons it without a close,
 * as a crash would; returns the snapshot files it left, to put back before each recovery.
 */
async function writeAndCrash(dir: string, idempotent: boolean): Promise<Map<string, Buffer>> {
  const log = await engineOn(new FsSegmentStore(dir)).openLog({ topic: 'recover', partition: 0 }, config);
  for (let i = 0; i < batchesIn(1023 * MiB); i++) await log.append(batchAt(i, idempotent));
  await log.flush();
  await new Promise((r) => setTimeout(r, 500)); // lets the background snapshot writes land
  const logDir = path.join(dir, 'recover-0');
  return new Map(fs.readdirSync(logDir).filter((n) => n.endsWith('.snapshot')).map((n) => [n, fs.readFileSync(path.join(logDir, n))]));
}

/** Seconds to open the crashed log again (segment recovery plus producer state) with `snapshots` in place. */
async function recoverySeconds(dir: string, snapshots: Map<string, Buffer>): Promise<number> {
  const logDir = path.join(dir, 'recover-0');
  for (const name of fs.readdirSync(logDir)) if (name === 'checkpoint' || name.endsWith('.snapshot')) fs.rmSync(path.join(logDir, name));
  for (const [name, bytes] of snapshots) fs.writeFileSync(path.join(logDir, name), bytes);
  fs.appendFileSync(path.join(logDir, '00000000000000000000.log'), Buffer.alloc(777, 0x5a));
  const seconds = await timed(() => engineOn(new FsSegmentStore(dir)).openLog({ topic: 'recover', partition: 0 }, config));
  const size = fs.statSync(path.join(logDir, '00000000000000000000.log')).size;
  if (size < 1000 * MiB) throw new Error(`recovery cut the log to ${size} bytes: the bench wrote invalid batches`);
  return seconds;
}

const VOLUME = 256 * MiB;
const append = { plain: [] as number[], idempotent: [] as number[] };
for (let run = 0; run < RUNS; run++) {
  append.plain.push(VOLUME / MiB / (await appendSeconds(VOLUME, false)));
  append.idempotent.push(VOLUME / MiB / (await appendSeconds(VOLUME, true)));
}
printTable(
  `append of ${fmt(VOLUME / MiB)} MiB in ${fmt(batchesIn(VOLUME))} batches of 4 KiB to storage-memory, median of ${RUNS} runs`,
  ['measurement', 'wharf', 'reference', 'ratio', 'reference is', 'wharf spread (MiB/s)'],
  [['8 idempotent producers', `${fmt(median(append.idempotent))} MiB/s`, `${fmt(median(append.plain))} MiB/s`, `${(median(append.idempotent) / median(append.plain)).toFixed(2)}×`, 'same batches, no producer id', spread(append.idempotent)]],
);

const recovery = { plain: [] as number[], snapshots: [] as number[], none: [] as number[] };
const plainDir = freshDir('plain');
const plainSnapshots = await writeAndCrash(plainDir, false);
const idempotentDir = freshDir('idempotent');
const snapshots = await writeAndCrash(idempotentDir, true);
for (let run = 0; run < 3; run++) {
  recovery.plain.push(await recoverySeconds(plainDir, plainSnapshots));
  recovery.snapshots.push(await recoverySeconds(idempotentDir, snapshots));
  recovery.none.push(await recoverySeconds(idempotentDir, new Map()));
}
const seconds = (values: number[]) => `${median(values).toFixed(2)} s`;
printTable(
  `recovery of a 1 GiB segment of 4 KiB batches with a torn tail (no clean checkpoint), median of 3 (snapshots at ${[...snapshots.keys()].map((n) => Number(n.slice(0, 20))).join(', ')})`,
  ['measurement', 'wharf', 'reference', 'ratio', 'target', 'reference is'],
  [
    ['idempotent batches, with snapshots', seconds(recovery.snapshots), seconds(recovery.plain), `${(median(recovery.snapshots) / median(recovery.plain)).toFixed(2)}×`, '< 2 s', 'same log of plain batches'],
    ['idempotent batches, no snapshot', seconds(recovery.none), seconds(recovery.plain), `${(median(recovery.none) / median(recovery.plain)).toFixed(2)}×`, '< 2 s', 'same log of plain batches'],
  ],
);
fs.rmSync(ROOT, { recursive: true, force: true });
