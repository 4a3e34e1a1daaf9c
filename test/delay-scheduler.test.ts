import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AckStateStore, BrokerError, createRootLogger, DelayScheduler, defaultLogConfig, SegmentedStorageEngine, SingleNodeReplicator, type DueEntry, type StorageEngine } from '../core/index.ts';
import { ManualClock } from '../core/testing/index.ts';
import { FsSegmentStore } from '../plugins/storage-fs/index.ts';
import { MemorySegmentStore } from '../plugins/storage-memory/index.ts';
import { tempDir } from './helpers/temp-dir.ts';

const logger = createRootLogger('silent');
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

async function open(engine: StorageEngine, clock: ManualClock, options = {}) {
  await engine.open();
  const log = await engine.openLog({ topic: 'timers', partition: 0 }, { ...defaultLogConfig, flush: { kind: 'never' }, segmentBytes: 4096, indexIntervalBytes: 256 });
  const store = await AckStateStore.open(engine, clock, logger);
  const scheduler = await DelayScheduler.open('timers', log, store, clock, logger, options);
  const fired: string[] = [];
  const close = async () => {
    await scheduler.close();
    await store.close();
    await engine.close();
  };
  return { scheduler, fired, close, listen: (handler?: (e: DueEntry[]) => Promise<void>) => scheduler.onDue(handler ?? (async (entries) => void fired.push(...entries.map((e) => e.value!.toString())))) };
}

const memoryEngine = (clock: ManualClock) => new SegmentedStorageEngine(new MemorySegmentStore(), new SingleNodeReplicator(), clock, logger);
const value = (text: string) => ({ value: Buffer.from(text) });

describe('DelayScheduler', () => {
  const dir = tempDir();
  afterEach(() => dir.remove());

  it('fires entries at their due time in (due, offset) order; an earlier entry re-arms the timer; cancel removes one', async () => {
    const clock = new ManualClock();
    const t = await open(memoryEngine(clock), clock);
    t.listen();
    const now = clock.now();
    await t.scheduler.schedule(now + 300, value('c'));
    await t.scheduler.schedule(now + 100, value('a'));
    await t.scheduler.schedule(now + 100, value('b'));
    const cancelled = await t.scheduler.schedule(now + 200, value('x'));
    expect(await t.scheduler.cancel(cancelled)).toBeDefined();
    expect(await t.scheduler.cancel(cancelled)).toBeUndefined();
    clock.advance(99);
    await settle();
    expect(t.fired).toEqual([]);
    clock.advance(1);
    await settle();
    expect(t.fired).toEqual(['a', 'b']);
    await t.scheduler.schedule(clock.now() + 50, value('early'));
    clock.advance(50);
    await settle();
    expect(t.fired).toEqual(['a', 'b', 'early']);
    clock.advance(1000);
    await settle();
    expect(t.fired).toEqual(['a', 'b', 'early', 'c']);
    expect(t.scheduler.size).toBe(0);
    await t.close();
  });

  it('refuses a due time beyond maxDelayMs', async () => {
    const clock = new ManualClock();
    const t = await open(memoryEngine(clock), clock, { maxDelayMs: 1000 });
    await expect(t.scheduler.schedule(clock.now() + 1001, value('late'))).rejects.toThrow(BrokerError);
    await t.close();
  });

  it('retries entries whose handler failed', async () => {
    const clock = new ManualClock();
    const t = await open(memoryEngine(clock), clock);
    let failures = 1;
    const seen: string[] = [];
    t.listen(async (entries) => {
      if (failures-- > 0) throw new Error('not now');
      seen.push(...entries.map((e) => e.value!.toString()));
    });
    await t.scheduler.schedule(clock.now() + 10, value('retry-me'));
    clock.advance(10);
    await settle();
    expect(seen).toEqual([]);
    clock.advance(1000);
    await settle();
    expect(seen).toEqual(['retry-me']);
    await t.close();
  });

  it('after a restart on storage-fs exactly the pending entries fire, once', async () => {
    const clock = new ManualClock();
    const first = await open(new SegmentedStorageEngine(new FsSegmentStore(dir.path), new SingleNodeReplicator(), clock, logger), clock);
    first.listen();
    const now = clock.now();
    const offsets = [];
    for (let i = 0; i < 40; i++) offsets.push(await first.scheduler.schedule(now + 100 * (i % 8) + 100, value(`e${i}`)));
    await first.scheduler.cancel(offsets[39]!);
    clock.advance(250);
    await settle();
    const firedBefore = [...first.fired];
    expect(firedBefore).toHaveLength(10);
    await first.close();

    const second = await open(new SegmentedStorageEngine(new FsSegmentStore(dir.path), new SingleNodeReplicator(), clock, logger), clock);
    expect(second.scheduler.size).toBe(29);
    second.listen();
    clock.advance(10_000);
    await settle();
    const expected = Array.from({ length: 39 }, (_, i) => `e${i}`).filter((e) => !firedBefore.includes(e));
    expect([...second.fired].sort()).toEqual(expected.sort());
    await second.close();
  });

  it('fires what a model says: not cancelled, due by now, once, in (due, offset) order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.record({ schedule: fc.integer({ min: 0, max: 500 }) }), fc.record({ cancel: fc.nat(50) }), fc.record({ advance: fc.integer({ min: 0, max: 300 }) })), { maxLength: 40 }),
        async (ops) => {
          const clock = new ManualClock();
          const t = await open(memoryEngine(clock), clock);
          t.listen();
          const model: Array<{ name: string; due: number; offset: number; cancelled: boolean; fired: boolean }> = [];
          const expected: string[] = [];
          for (const [i, op] of ops.entries()) {
            if ('schedule' in op) {
              const due = clock.now() + op.schedule;
              const offset = await t.scheduler.schedule(due, value(`n${i}`));
              model.push({ name: `n${i}`, due, offset, cancelled: false, fired: false });
            } else if ('cancel' in op) {
              const entry = model[op.cancel];
              if (!entry) continue;
              const cancelled = (await t.scheduler.cancel(entry.offset)) !== undefined;
              expect(cancelled).toBe(!entry.cancelled && !entry.fired);
              if (cancelled) entry.cancelled = true;
            } else {
              clock.advance(op.advance);
              await settle();
              const due = model.filter((e) => !e.cancelled && !e.fired && e.due <= clock.now()).sort((a, b) => a.due - b.due || a.offset - b.offset);
              for (const e of due) {
                e.fired = true;
                expected.push(e.name);
              }
              expect(t.fired).toEqual(expected);
            }
          }
          await t.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});
