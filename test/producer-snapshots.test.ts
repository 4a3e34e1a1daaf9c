import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SegmentedStorageEngine,
  SingleNodeReplicator,
  createRootLogger,
  encodeRecordBatch,
  logDirName,
  parseSnapshotFileName,
  snapshotFileName,
  systemClock,
  type LogConfig,
  type PartitionLog,
} from '../core/index.ts';
import { FsSegmentStore } from '../plugins/storage-fs/index.ts';
import { tempDir } from './helpers/temp-dir.ts';

const ID = { topic: 'snapshots', partition: 0 };
const CONFIG: LogConfig = { segmentBytes: 4096, segmentMs: 1e12, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 256, flush: { kind: 'never' } };
const PRODUCER = 42;

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

/** The client batch with sequence `seq` (two records), rebuilt identically whenever asked. */
const clientBatch = (seq: number, value = 100) =>
  encodeRecordBatch({ producerId: PRODUCER, producerEpoch: 0, baseSequence: seq * 2, timestamp: Date.now(), records: [{ value: Buffer.alloc(value, seq) }, { value: Buffer.alloc(value, seq) }] });

async function openLog(dir: string): Promise<{ log: PartitionLog; engine: SegmentedStorageEngine }> {
  const engine = new SegmentedStorageEngine(new FsSegmentStore(dir), new SingleNodeReplicator(), systemClock, createRootLogger('silent'));
  await engine.open();
  return { engine, log: await engine.openLog(ID, CONFIG) };
}

function snapshotsIn(dir: string): number[] {
  return fs
    .readdirSync(path.join(dir, logDirName(ID)))
    .map(parseSnapshotFileName)
    .filter((o): o is number => o !== undefined)
    .sort((a, b) => a - b);
}

/** Snapshots are written in the background: waits until `done` holds for them. */
async function snapshotsWhen(dir: string, done: (offsets: number[]) => boolean): Promise<number[]> {
  for (let i = 0; i < 200 && !done(snapshotsIn(dir)); i++) await new Promise((r) => setTimeout(r, 25));
  return snapshotsIn(dir);
}

/** Appends batches `from` .. `to - 1` of the producer; returns their base offsets by sequence. */
async function produce(log: PartitionLog, from: number, to: number, offsets: number[] = []): Promise<number[]> {
  for (let seq = from; seq < to; seq++) offsets[seq] = (await log.append(clientBatch(seq))).baseOffset;
  return offsets;
}

/** The retry of batch `seq` is a duplicate at its offset, or (undefined) appends as new. */
function retryOf(log: PartitionLog, seq: number): number | string {
  const check = log.producerState.check(clientBatch(seq));
  return check.kind === 'duplicate' ? check.baseOffset : check.kind;
}

describe('producer-state snapshots in the log directory', () => {
  it('are written at each roll and at close, and deleted with their segments', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const { engine, log } = await openLog(dir.path);
    const offsets = await produce(log, 0, 60);
    const segmentBases = () => fs.readdirSync(path.join(dir.path, logDirName(ID))).filter((f) => f.endsWith('.log')).map((f) => Number(f.slice(0, 20))).sort((a, b) => a - b);
    const bases = segmentBases();
    expect(bases.length).toBeGreaterThan(3);
    expect(await snapshotsWhen(dir.path, (s) => s.length === bases.length - 1)).toEqual(bases.slice(1));
    await log.deleteBefore(offsets[40]!);
    await engine.close();
    const remaining = segmentBases();
    expect(remaining[0]).toBeGreaterThan(0);
    expect(snapshotsIn(dir.path)).toEqual([...remaining, offsets[59]! + 2]);
  });

  it('a crash that tore the tail below the newest snapshot falls back to an older one and replays the log', async () => {
    const dir = tempDir();
    dirs.push(dir);
    let { engine, log } = await openLog(dir.path);
    const offsets = await produce(log, 0, 50);
    await engine.close();
    // Lose the last two batches, as a power cut after the close's snapshot but before their data hit the disk.
    const logDir = path.join(dir.path, logDirName(ID));
    const newest = fs.readdirSync(logDir).filter((f) => f.endsWith('.log')).sort().pop()!;
    const lastTwo = 2 * clientBatch(0).length;
    fs.truncateSync(path.join(logDir, newest), fs.statSync(path.join(logDir, newest)).size - lastTwo);
    fs.rmSync(path.join(logDir, 'checkpoint'));
    ({ engine, log } = await openLog(dir.path));
    expect(log.logEndOffset).toBe(offsets[48]!);
    expect(snapshotsIn(dir.path).every((o) => o <= log.logEndOffset)).toBe(true);
    expect([43, 44, 45, 46, 47].map((seq) => retryOf(log, seq))).toEqual([43, 44, 45, 46, 47].map((seq) => offsets[seq]));
    expect(retryOf(log, 48)).toBe('append');
    expect(retryOf(log, 49)).toBe('rejected');
    await engine.close();
  });

  it('skip an unreadable snapshot, and rebuild a data directory without any from its last two segments', async () => {
    const dir = tempDir();
    dirs.push(dir);
    let { engine, log } = await openLog(dir.path);
    const offsets = await produce(log, 0, 40);
    await engine.close();
    const logDir = path.join(dir.path, logDirName(ID));
    const [newest] = snapshotsIn(dir.path).reverse();
    fs.writeFileSync(path.join(logDir, snapshotFileName(newest!)), 'not a snapshot');
    ({ engine, log } = await openLog(dir.path));
    expect([35, 36, 37, 38, 39].map((seq) => retryOf(log, seq))).toEqual([35, 36, 37, 38, 39].map((seq) => offsets[seq]));
    await engine.close();

    for (const offset of snapshotsIn(dir.path)) fs.rmSync(path.join(logDir, snapshotFileName(offset)));
    ({ engine, log } = await openLog(dir.path));
    expect([35, 36, 37, 38, 39].map((seq) => retryOf(log, seq))).toEqual([35, 36, 37, 38, 39].map((seq) => offsets[seq]));
    expect(retryOf(log, 40)).toBe('append');
    await engine.close();
    expect(snapshotsIn(dir.path)).toEqual([offsets[39]! + 2]);
  });

  it('are also taken every 64 MiB without a roll, so a crash replays at most that much of the active segment', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const engine = new SegmentedStorageEngine(new FsSegmentStore(dir.path), new SingleNodeReplicator(), systemClock, createRootLogger('silent'));
    const log = await engine.openLog(ID, { ...CONFIG, segmentBytes: 1024 * 1024 * 1024 });
    const big = encodeRecordBatch({ records: [{ value: Buffer.alloc(1024 * 1024 - 100) }] });
    for (let i = 0; i < 70; i++) await log.append(Buffer.from(big));
    const [periodic, ...more] = await snapshotsWhen(dir.path, (s) => s.length > 0);
    expect(more).toEqual([]);
    expect(periodic).toBeGreaterThanOrEqual(64);
    expect(periodic).toBeLessThanOrEqual(66);
    await engine.close();
  });
});
