import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { del, delPrefix, put, type CoordinationBackend, type WatchEvent } from '../cluster/coordination.ts';

export interface CoordinationHarness {
  /** Two clients of one store, as two brokers would hold. */
  readonly first: CoordinationBackend;
  readonly second: CoordinationBackend;
  /** Lets `ms` of the store's time pass (a real sleep for a real store). */
  wait(ms: number): Promise<void>;
  /** The shortest lease TTL the store grants. */
  readonly minLeaseTtlMs: number;
  cleanup(): Promise<void>;
}

export type CoordinationHarnessFactory = () => Promise<CoordinationHarness>;

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Collects watch events until `count` have arrived or `timeoutMs` passes. */
function collect(backend: CoordinationBackend, prefix: string, fromRevision: number) {
  const events: WatchEvent[] = [];
  let broken: Error | undefined;
  const waiters: Array<() => void> = [];
  const watch = backend.watch(prefix, fromRevision, {
    onEvents: (batch) => {
      events.push(...batch);
      for (const wake of waiters.splice(0)) wake();
    },
    onBroken: (err) => (broken = err),
  });
  return {
    events,
    get broken() {
      return broken;
    },
    cancel: () => watch.cancel(),
    async until(count: number, timeoutMs = 5000): Promise<WatchEvent[]> {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 20);
        });
      }
      return events;
    },
  };
}

/**
 * The coordination conformance suite: every CoordinationBackend runs it (the in-memory store and
 * etcd), each test under a prefix of its own. The cluster's safety rests on exactly these properties.
 */
export function runCoordinationConformance(name: string, factory: CoordinationHarnessFactory): void {
  describe(`coordination conformance: ${name}`, () => {
    let harness: CoordinationHarness;
    let a: CoordinationBackend;
    let b: CoordinationBackend;
    let prefix: string;
    let testNo = 0;

    beforeEach(async () => {
      harness = await factory();
      a = harness.first;
      b = harness.second;
      prefix = `/conformance-${process.pid}-${Date.now()}-${testNo++}/`;
    });

    afterEach(async () => {
      await harness.cleanup();
    });

    it('creates a key only while it is absent, and revisions grow with every change', async () => {
      const key = `${prefix}k`;
      const first = await a.txn([{ key, createRevision: 0 }], [put(key, text('a'))]);
      expect(first.succeeded).toBe(true);
      const second = await b.txn([{ key, createRevision: 0 }], [put(key, text('b'))]);
      expect(second.succeeded).toBe(false);
      const stored = await b.get(key);
      expect(stored?.value.toString()).toBe('a');
      expect(stored?.createRevision).toBe(first.revision);
      expect(stored?.modRevision).toBe(first.revision);
      const update = await b.txn([], [put(key, text('c'))]);
      expect(update.revision).toBeGreaterThan(first.revision);
      const updated = await a.get(key);
      expect(updated).toMatchObject({ createRevision: first.revision, modRevision: update.revision });
      expect(updated?.value.toString()).toBe('c');
    });

    it('compares and swaps on the mod revision: a stale writer fails and the failure branch runs instead', async () => {
      const key = `${prefix}cas`;
      const other = `${prefix}cas-failed`;
      const created = await a.txn([], [put(key, text('v1'))]);
      const byA = await a.txn([{ key, modRevision: created.revision }], [put(key, text('v2-a'))]);
      expect(byA.succeeded).toBe(true);
      const byB = await b.txn([{ key, modRevision: created.revision }], [put(key, text('v2-b'))], [put(other, text('lost'))]);
      expect(byB.succeeded).toBe(false);
      expect((await b.get(key))?.value.toString()).toBe('v2-a');
      expect((await b.get(other))?.value.toString()).toBe('lost');
    });

    it('applies every operation of a transaction or none, guarded by several conditions', async () => {
      const [x, y, z] = [`${prefix}x`, `${prefix}y`, `${prefix}z`];
      const made = await a.txn([], [put(x, text('1')), put(y, text('1'))]);
      const xKey = await a.get(x);
      const yKey = await a.get(y);
      expect(xKey?.modRevision).toBe(made.revision);
      expect(yKey?.modRevision).toBe(made.revision);
      await b.txn([], [put(y, text('2'))]);
      const failed = await a.txn(
        [
          { key: x, modRevision: made.revision },
          { key: y, modRevision: made.revision },
        ],
        [put(x, text('3')), put(z, text('3')), del(y)],
      );
      expect(failed.succeeded).toBe(false);
      expect((await a.get(x))?.value.toString()).toBe('1');
      expect(await a.get(z)).toBeUndefined();
      expect((await a.get(y))?.value.toString()).toBe('2');
    });

    it('lists a prefix in key order at one revision, and deletes a prefix', async () => {
      await a.txn([], [put(`${prefix}list/b`, text('b')), put(`${prefix}list/a`, text('a')), put(`${prefix}listx`, text('x')), put(`${prefix}other`, text('o'))]);
      const listed = await b.list(`${prefix}list/`);
      expect(listed.keys.map((k) => k.key)).toEqual([`${prefix}list/a`, `${prefix}list/b`]);
      expect(listed.revision).toBeGreaterThanOrEqual(listed.keys[0]!.modRevision);
      await b.txn([], [delPrefix(`${prefix}list/`)]);
      expect((await a.list(`${prefix}list/`)).keys).toEqual([]);
      expect((await a.get(`${prefix}listx`))?.value.toString()).toBe('x');
    });

    it('deletes a lease\'s keys when it is revoked; keepAlive then answers 0', async () => {
      const lease = await a.grantLease(harness.minLeaseTtlMs * 5);
      await a.txn([], [put(`${prefix}leased`, text('x'), lease), put(`${prefix}kept`, text('y'))]);
      expect(await a.keepAlive(lease)).toBeGreaterThan(0);
      await a.revokeLease(lease);
      expect(await b.get(`${prefix}leased`)).toBeUndefined();
      expect((await b.get(`${prefix}kept`))?.value.toString()).toBe('y');
      expect(await a.keepAlive(lease)).toBe(0);
      await a.revokeLease(lease);
    });

    it('expires a lease that is not kept alive, deleting its keys, while a kept-alive lease lives on', async () => {
      const ttl = harness.minLeaseTtlMs;
      const lapsing = await a.grantLease(ttl);
      const kept = await b.grantLease(ttl);
      await a.txn([], [put(`${prefix}lapsing`, text('x'), lapsing)]);
      await b.txn([], [put(`${prefix}kept`, text('y'), kept)]);
      const watch = collect(b, `${prefix}lapsing`, 1);
      const deadline = Date.now() + ttl * 3 + 2000;
      while ((await b.get(`${prefix}lapsing`)) !== undefined && Date.now() < deadline) {
        expect(await b.keepAlive(kept)).toBeGreaterThan(0);
        await harness.wait(Math.floor(ttl / 4));
      }
      expect(await b.get(`${prefix}lapsing`)).toBeUndefined();
      expect(await a.keepAlive(lapsing)).toBe(0);
      expect((await b.get(`${prefix}kept`))?.value.toString()).toBe('y');
      const events = await watch.until(2);
      expect(events.map((e) => e.type)).toEqual(['put', 'delete']);
      watch.cancel();
      await b.revokeLease(kept);
    });

    it('refuses a put on an unknown lease', async () => {
      const lease = await a.grantLease(harness.minLeaseTtlMs * 5);
      await a.revokeLease(lease);
      await expect(a.txn([], [put(`${prefix}orphan`, text('x'), lease)])).rejects.toThrow();
      expect(await a.get(`${prefix}orphan`)).toBeUndefined();
    });

    it('watches a prefix from a past revision: every change in order, whole transactions, nothing outside the prefix', async () => {
      const start = await a.txn([], [put(`${prefix}w/1`, text('one'))]);
      await b.txn([], [put(`${prefix}w/2`, text('two')), put(`${prefix}elsewhere`, text('no'))]);
      await a.txn([], [del(`${prefix}w/1`)]);
      const watch = collect(b, `${prefix}w/`, start.revision);
      await a.txn([], [put(`${prefix}w/3`, text('three')), put(`${prefix}w/4`, text('four'))]);
      const events = await watch.until(5);
      watch.cancel();
      expect(events.map((e) => [e.type, e.key.slice(prefix.length), e.value.toString()])).toEqual([
        ['put', 'w/1', 'one'],
        ['put', 'w/2', 'two'],
        ['delete', 'w/1', ''],
        ['put', 'w/3', 'three'],
        ['put', 'w/4', 'four'],
      ]);
      const revisions = events.map((e) => e.modRevision);
      expect([...revisions].sort((x, y) => x - y)).toEqual(revisions);
      expect(revisions[3]).toBe(revisions[4]);
      expect(events[0]!.createRevision).toBe(start.revision);
      expect(watch.broken).toBeUndefined();
    });

    it('delivers another client\'s changes to a watch, and nothing after cancel', async () => {
      const listed = await a.list(`${prefix}live/`);
      const watch = collect(a, `${prefix}live/`, listed.revision + 1);
      await b.txn([], [put(`${prefix}live/k`, text('1'))]);
      expect((await watch.until(1)).map((e) => e.value.toString())).toEqual(['1']);
      watch.cancel();
      await b.txn([], [put(`${prefix}live/k`, text('2'))]);
      await harness.wait(200);
      expect(watch.events).toHaveLength(1);
    });

    it('serialises concurrent creators: exactly one of many wins', async () => {
      const key = `${prefix}race`;
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).txn([{ key, createRevision: 0 }], [put(key, text(String(i)))])),
      );
      expect(results.filter((r) => r.succeeded)).toHaveLength(1);
      const winner = results.findIndex((r) => r.succeeded);
      expect((await a.get(key))?.value.toString()).toBe(String(winner));
    });
  });
}
