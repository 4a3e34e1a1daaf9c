import { describe, expect, it } from 'vitest';
import {
  SegmentedStorageEngine,
  SingleNodeReplicator,
  createRootLogger,
  defaultLogConfig,
  encodeRecordBatch,
  type SegmentFile,
  type SegmentStore,
} from '../core/index.ts';
import { ManualClock } from '../core/testing/index.ts';
import { MemorySegmentStore } from '../plugins/storage-memory/index.ts';

/** A store whose syncs complete only when the test releases them, counting how many were issued. */
class GatedStore extends MemorySegmentStore {
  syncs = 0;
  private gates: Array<() => void> = [];

  override createFile(log: string, name: string): SegmentFile {
    return this.gate(super.createFile(log, name));
  }

  override async openFile(log: string, name: string): Promise<SegmentFile> {
    return this.gate(await super.openFile(log, name));
  }

  release(): void {
    for (const open of this.gates.splice(0)) open();
  }

  private gate(file: SegmentFile): SegmentFile {
    return Object.assign(Object.create(file) as SegmentFile, {
      sync: () => {
        this.syncs++;
        return new Promise<void>((resolve) => this.gates.push(resolve));
      },
    });
  }
}

const tick = () => new Promise((r) => setImmediate(r));

async function openLog(store: SegmentStore, flush: 'always' | 'never') {
  const engine = new SegmentedStorageEngine(store, new SingleNodeReplicator(), new ManualClock(), createRootLogger('silent'));
  return engine.openLog({ topic: 't', partition: 0 }, { ...defaultLogConfig, flush: { kind: flush } });
}

describe('flush=always durability', () => {
  it('acknowledges an append only after the sync covering it, and shares syncs between concurrent appends', async () => {
    const store = new GatedStore();
    const log = await openLog(store, 'always');
    const acked: number[] = [];
    const first = log.append(encodeRecordBatch({ records: [{ value: Buffer.from('a') }] })).then((r) => acked.push(r.baseOffset));
    await tick();
    expect(store.syncs).toBe(1);
    const rest = Array.from({ length: 15 }, () => log.append(encodeRecordBatch({ records: [{ value: Buffer.from('b') }] })).then((r) => acked.push(r.baseOffset)));
    await tick();
    expect(acked).toEqual([]);
    expect(log.highWatermark).toBe(0);
    expect(log.logEndOffset).toBe(16);
    expect((await log.read(0, 1000)).records.length).toBe(0);

    store.release();
    await first;
    await tick();
    expect(acked).toEqual([0]);
    expect(log.highWatermark).toBe(1);
    expect(store.syncs).toBe(2);
    store.release();
    await Promise.all(rest);
    expect(acked).toHaveLength(16);
    expect(log.highWatermark).toBe(16);
    expect(store.syncs).toBe(2);
  });

  it('does not wait for syncs under flush=never', async () => {
    const store = new GatedStore();
    const log = await openLog(store, 'never');
    await log.append(encodeRecordBatch({ records: [{ value: Buffer.from('a') }] }));
    expect(log.highWatermark).toBe(1);
    expect(store.syncs).toBe(0);
  });
});
