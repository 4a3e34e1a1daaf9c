import { describe, expect, it } from 'vitest';
import { createRootLogger, SegmentedStorageEngine, SingleNodeReplicator } from '../../core/index.ts';
import { runStorageConformance } from '../../core/testing/index.ts';
import { MemorySegmentFile, MemorySegmentStore } from './memory-segment-store.ts';

for (const cleanerThread of [true, false]) {
  runStorageConformance(cleanerThread ? 'storage-memory' : 'storage-memory, the cleaner on the event loop', async (clock) => {
    const store = new MemorySegmentStore();
    const make = () => {
      const engine = new SegmentedStorageEngine(store, new SingleNodeReplicator(), clock, createRootLogger('silent'));
      engine.cleanerThread = cleanerThread;
      return engine;
    };
    let engine = make();
    return {
      engine,
      async reopen({ clean }) {
        if (clean) await engine.close();
        engine = make();
        return engine;
      },
      cleanup: () => engine.close(),
    };
  });
}

describe('MemorySegmentFile', () => {
  it('reads ranges across packed and adopted blocks, and truncates', () => {
    const file = new MemorySegmentFile('f');
    const small = Buffer.alloc(1000, 1);
    const large = Buffer.alloc(100_000, 2);
    file.append(small);
    file.append(large);
    file.append([small, small]);
    expect(file.size).toBe(103_000);
    expect(file.read(900, 200)).toEqual(Buffer.concat([Buffer.alloc(100, 1), Buffer.alloc(100, 2)]));
    expect(file.read(1000, 100_000).buffer).toBe(large.buffer);
    file.truncate(1500);
    expect(file.size).toBe(1500);
    expect(file.read(0, 10_000).length).toBe(1500);
    file.append(small);
    expect(file.read(1400, 200)).toEqual(Buffer.concat([Buffer.alloc(100, 2), Buffer.alloc(100, 1)]));
  });
});
