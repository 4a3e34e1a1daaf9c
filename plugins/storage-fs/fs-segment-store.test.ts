import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRootLogger, SegmentedStorageEngine, SingleNodeReplicator } from '../../core/index.ts';
import { runStorageConformance } from '../../core/testing/index.ts';
import { FsSegmentStore } from './fs-segment-store.ts';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-fs-'));
}

runStorageConformance('storage-fs', async (clock) => {
  const dir = tempDir();
  const make = () => new SegmentedStorageEngine(new FsSegmentStore(dir), new SingleNodeReplicator(), clock, createRootLogger('silent'));
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
