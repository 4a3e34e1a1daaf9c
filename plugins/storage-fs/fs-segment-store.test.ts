import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createRootLogger, decodeRecords, defaultLogConfig, encodeRecordBatch, RecordBatch, SegmentedStorageEngine, SingleNodeReplicator, type PartitionLog } from '../../core/index.ts';
import { ManualClock, runStorageConformance } from '../../core/testing/index.ts';
import { FsSegmentStore } from './fs-segment-store.ts';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-fs-'));
}

for (const openFiles of [undefined, 2]) {
  runStorageConformance(openFiles === undefined ? 'storage-fs' : `storage-fs with ${openFiles} segment files open at most`, async (clock) => {
    const dir = tempDir();
    const make = () => new SegmentedStorageEngine(new FsSegmentStore(dir, { openFiles }), new SingleNodeReplicator(), clock, createRootLogger('silent'));
    let engine = make();
    return {
      engine,
      async reopen({ clean }) {
        if (clean) await engine.close();
        engine = make();
        return engine;
      },
      async cleanup() {
        await engine.close().catch(() => undefined);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}

/** Descriptors this process holds on files under `dir`. */
function descriptorsUnder(dir: string): number {
  let count = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) count++;
    } catch {
      // closed since the listing
    }
  }
  return count;
}

describe('FsSegmentStore with a bound on open segment files', () => {
  it('closes the least recently used idle file to open another and reopens it, by its new name after a rename, on its next use', async () => {
    const dir = tempDir();
    const store = new FsSegmentStore(dir, { openFiles: 2 });
    const files = ['a', 'b', 'c'].map((name, i) => {
      const file = store.createFile('t-0', `${name}.log`);
      file.append(Buffer.from(`file ${i}`));
      return file;
    });
    expect(descriptorsUnder(dir)).toBe(2);
    expect(store.descriptors.evictions).toBe(1);
    expect(files[0]!.read(0, 100).toString()).toBe('file 0'); // reopened; b, the least recently used, closed
    expect(store.descriptors.evictions).toBe(2);
    await store.renameFile('t-0', 'b.log', 'renamed.log');
    files[1]!.append(Buffer.from(' more'));
    expect(fs.readFileSync(path.join(dir, 't-0', 'renamed.log'), 'utf8')).toBe('file 1 more');
    expect(descriptorsUnder(dir)).toBe(2);
    // A file deleted while it holds a descriptor keeps it (and its bytes); one deleted while closed reports it.
    await store.deleteFile('t-0', 'renamed.log');
    expect(files[1]!.read(0, 100).toString()).toBe('file 1 more');
    await store.deleteFile('t-0', 'c.log'); // closed to reopen b
    expect(() => files[2]!.read(0, 100)).toThrow(/deleted while closed/);
    for (const file of files) await file.close();
    expect(descriptorsUnder(dir)).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('never closes a descriptor a sync is using, and syncs bytes appended before the file was closed to make room', async () => {
    const dir = tempDir();
    const store = new FsSegmentStore(dir, { openFiles: 2 });
    const [a, b, c] = ['a', 'b', 'c'].map((name) => store.createFile('t-0', `${name}.log`));
    a!.append(Buffer.from('a'));
    b!.append(Buffer.from('b'));
    const syncs = [a!.sync(), b!.sync()]; // one runs at a time (half the bound); each holds its descriptor meanwhile
    c!.append(Buffer.from('c')); // closes whichever is idle, never the one syncing
    await Promise.all(syncs);
    for (const file of [a!, b!, c!]) await file.sync();
    expect([a!, b!, c!].map((file) => file.read(0, 1).toString())).toEqual(['a', 'b', 'c']);
    expect(descriptorsUnder(dir)).toBeLessThanOrEqual(2);
    for (const file of [a!, b!, c!]) await file.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('FsSegmentStore', () => {
  it('names segment files by their 20-digit base offset and replaces small files atomically', async () => {
    const dir = tempDir();
    const store = new FsSegmentStore(dir);
    const file = store.createFile('t-0', '00000000000000000042.log');
    file.append([Buffer.from('ab'), Buffer.from('cd')]);
    await file.sync();
    expect(file.read(1, 10).toString()).toBe('bcd');
    await store.replaceFile('t-0', 'checkpoint', Buffer.from('x'));
    await store.replaceFile('t-0', 'checkpoint', Buffer.from('y'));
    expect((await store.readFile('t-0', 'checkpoint'))?.toString()).toBe('y');
    expect((await store.listFiles('t-0')).sort()).toEqual(['00000000000000000042.log', 'checkpoint']);
    await file.close();
    const reopened = await store.openFile('t-0', '00000000000000000042.log');
    expect(reopened.size).toBe(4);
    await reopened.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

/** An FsSegmentStore whose renames fail from some point on, as if the broker died there. */
class DyingStore extends FsSegmentStore {
  constructor(
    root: string,
    private readonly dieOn: (from: string, to: string) => boolean,
  ) {
    super(root);
  }

  override async renameFile(log: string, from: string, to: string, options?: { syncDirectory?: boolean }): Promise<void> {
    if (this.dieOn(from, to)) throw new Error(`died before renaming ${from} to ${to}`);
    return super.renameFile(log, from, to, options);
  }
}

describe('compaction interrupted by a crash', () => {
  const config = { ...defaultLogConfig, segmentBytes: 1 << 20, flush: { kind: 'never' as const }, cleanupPolicy: 'compact' as const };
  const id = { topic: 'compacted', partition: 0 };
  const value = (i: number) => `value-${i}`;

  async function compactOn(store: FsSegmentStore): Promise<{ before: string[] }> {
    const engine = new SegmentedStorageEngine(store, new SingleNodeReplicator(), new ManualClock(), createRootLogger('silent'));
    const log = await engine.openLog(id, config);
    for (let i = 0; i < 80; i++) {
      await log.append(encodeRecordBatch({ timestamp: 1_700_000_000_000, records: [{ key: Buffer.from(`k${i % 4}`), value: Buffer.from(value(i)) }] }));
    }
    await log.roll();
    await log.flush();
    const before = await valuesOf(log);
    await log.compact().catch(() => undefined);
    return { before };
  }

  async function reopen(dir: string): Promise<{ values: string[]; files: string[] }> {
    const engine = new SegmentedStorageEngine(new FsSegmentStore(dir), new SingleNodeReplicator(), new ManualClock(), createRootLogger('silent'));
    const log = await engine.openLog(id, config);
    const values = await valuesOf(log);
    const files = fs.readdirSync(path.join(dir, 'compacted-0'));
    await engine.close();
    return { values, files };
  }

  async function valuesOf(log: PartitionLog): Promise<string[]> {
    const out: string[] = [];
    for (let offset = log.logStartOffset; offset < log.logEndOffset; ) {
      const { records } = await log.read(offset, 1 << 20, log.logEndOffset);
      if (records.length === 0) break;
      for (let pos = 0; pos < records.length; ) {
        const batch = new RecordBatch(records, pos);
        for (const r of decodeRecords(batch.bytes)) out.push(r.value!.toString());
        offset = batch.nextOffset;
        pos += batch.sizeInBytes;
      }
    }
    return out;
  }

  it('drops a cleaned segment that was not yet decided: the log is as before', async () => {
    const dir = tempDir();
    const { before } = await compactOn(new DyingStore(dir, (from) => from.endsWith('.cleaned')));
    const { values, files } = await reopen(dir);
    expect(values).toEqual(before);
    expect(files.filter((f) => f.endsWith('.cleaned') || f.endsWith('.swap'))).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('completes a decided replacement (a swap file) on open: the log is compacted', async () => {
    const dir = tempDir();
    const { before } = await compactOn(new DyingStore(dir, (from) => from.endsWith('.swap')));
    expect(fs.readdirSync(path.join(dir, 'compacted-0')).some((f) => f.endsWith('.swap'))).toBe(true);
    const { values, files } = await reopen(dir);
    expect(values).toEqual([76, 77, 78, 79].map(value));
    expect(before).toHaveLength(80);
    expect(files.filter((f) => f.endsWith('.cleaned') || f.endsWith('.swap') || f.endsWith('.deleted'))).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("sets the replaced segments' files aside and deletes them file.delete.delay.ms later, or on open after a crash", async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const engine = new SegmentedStorageEngine(new FsSegmentStore(dir), new SingleNodeReplicator(), clock, createRootLogger('silent'));
    const log = await engine.openLog(id, { ...config, segmentBytes: 1024 });
    for (let i = 0; i < 80; i++) {
      await log.append(encodeRecordBatch({ timestamp: 1_700_000_000_000, records: [{ key: Buffer.from(`k${i % 4}`), value: Buffer.from(value(i)) }] }));
    }
    await log.roll();
    const segmentsBefore = fs.readdirSync(path.join(dir, 'compacted-0')).filter((f) => f.endsWith('.log'));
    expect((await log.compact())?.completed).toBe(true);
    const aside = () => fs.readdirSync(path.join(dir, 'compacted-0')).filter((f) => f.endsWith('.deleted'));
    // Every replaced segment's .log is aside (the cleaned ones took the first base offsets of their groups).
    expect(aside().filter((f) => /\.log\.\d+\.deleted$/.test(f)).length).toBe(segmentsBefore.length - 1);
    expect(await valuesOf(log)).toEqual([76, 77, 78, 79].map(value));
    const firstPass = aside();
    // A second pass within the delay replaces the same first base offset: its files are set aside beside
    // the first pass's, and each pass's timer deletes only its own.
    clock.advance(30_000);
    for (let i = 80; i < 160; i++) {
      await log.append(encodeRecordBatch({ timestamp: 1_700_000_000_000, records: [{ key: Buffer.from(`k${i % 4}`), value: Buffer.from(value(i)) }] }));
    }
    await log.roll();
    expect((await log.compact())?.completed).toBe(true);
    const secondPass = aside().filter((f) => !firstPass.includes(f));
    expect(secondPass.filter((f) => /\.log\.\d+\.deleted$/.test(f)).length).toBeGreaterThan(0);
    expect(aside()).toEqual(expect.arrayContaining(firstPass));
    clock.advance(30_000);
    await vi.waitFor(() => expect(aside().sort()).toEqual(secondPass.sort()));
    clock.advance(30_000);
    await vi.waitFor(() => expect(aside()).toEqual([]));
    expect(await valuesOf(log)).toEqual([156, 157, 158, 159].map(value));

    for (let i = 160; i < 240; i++) {
      await log.append(encodeRecordBatch({ timestamp: 1_700_000_000_000, records: [{ key: Buffer.from(`k${i % 4}`), value: Buffer.from(value(i)) }] }));
    }
    await log.roll();
    await log.flush();
    await log.compact();
    expect(aside().length).toBeGreaterThan(0);
    // The broker dies here (the engine is abandoned, not closed): opening the log deletes what was set aside.
    const { values, files } = await reopen(dir);
    expect(values).toEqual([236, 237, 238, 239].map(value));
    expect(files.filter((f) => f.endsWith('.deleted'))).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
