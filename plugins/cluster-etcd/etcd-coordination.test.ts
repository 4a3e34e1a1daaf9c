import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BrokerError, del, delPrefix, put, type CoordinationBackend, type WatchEvent } from '../../core/index.ts';
import { runCoordinationConformance } from '../../core/testing/index.ts';
import { EtcdServer } from '../../test/helpers/etcd.ts';
import { hasProgram } from '../../test/helpers/programs.ts';
import { EtcdCoordination } from './etcd-coordination.ts';

const HAS_ETCD = hasProgram('etcd', 'the etcd coordination tests');
const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Records a watch's deliveries; `until` waits for a count of events. */
function record(backend: CoordinationBackend, prefix: string, fromRevision: number) {
  const batches: WatchEvent[][] = [];
  let broken: Error | undefined;
  const watch = backend.watch(prefix, fromRevision, { onEvents: (events) => void batches.push([...events]), onBroken: (err) => (broken = err) });
  const events = () => batches.flat();
  return {
    batches,
    events,
    get broken() {
      return broken;
    },
    cancel: () => watch.cancel(),
    async until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!done() && Date.now() < deadline) await sleep(20);
    },
  };
}

/** What keeps this process alive, by kind (sockets, timers, child processes), sorted. */
const activeResources = (): string => process.getActiveResourcesInfo().filter((kind) => kind !== 'Immediate').sort().join(' ');

/** Milliseconds a promise took to settle, and its error if it rejected. */
async function settle(promise: Promise<unknown>, started = Date.now()): Promise<{ ms: number; error: unknown }> {
  try {
    await promise;
    return { ms: Date.now() - started, error: undefined };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

describe.skipIf(!HAS_ETCD)('EtcdCoordination on a real etcd', () => {
  let etcd: EtcdServer;
  let prefixNo = 0;
  const prefix = () => `etcd-test-${prefixNo++}/`;
  const client = (requestTimeoutMs = 2000): EtcdCoordination =>
    new EtcdCoordination({ endpoints: [etcd.endpoint], name: 'wharf-test', leaseTtlMs: 2000, requestTimeoutMs });

  beforeAll(async () => {
    etcd = await EtcdServer.start();
  });

  afterAll(async () => {
    await etcd?.remove();
  });

  runCoordinationConformance('etcd', async () => {
    const first = client();
    const second = client();
    await Promise.all([first.connect(), second.connect()]);
    return {
      first,
      second,
      minLeaseTtlMs: etcd.minLeaseTtlMs,
      wait: sleep,
      cleanup: async () => {
        await first.close();
        await second.close();
      },
    };
  });

  describe('etcd specifics', () => {
    let a: EtcdCoordination;

    beforeEach(async () => {
      a = client();
      await a.connect();
    });

    afterEach(async () => {
      await a.close();
    });

    it('keeps keys under /<name>/ in etcd, and hands them back relative', async () => {
      const p = prefix();
      const { revision } = await a.txn([], [put(`${p}k`, text('v'))]);
      const raw = new Etcd3({ hosts: etcd.endpoint });
      try {
        expect(await raw.get(`/wharf-test/${p}k`).string()).toBe('v');
      } finally {
        raw.close();
      }
      expect((await a.list(p)).keys).toEqual([{ key: `${p}k`, value: text('v'), createRevision: revision, modRevision: revision }]);
    });

    it('a watch outlives an etcd restart: every change arrives once, in order, also to one opened while etcd was down', async () => {
      const p = prefix();
      const start = (await a.list(p)).revision + 1;
      const live = record(a, p, start);
      await a.txn([], [put(`${p}1`, text('1'))]);
      await a.txn([], [put(`${p}2`, text('2')), put(`${p}3`, text('3'))]);
      await live.until(() => live.events().length >= 3);

      await etcd.stop();
      const openedWhileDown = record(a, p, start);
      await etcd.restart();
      await a.txn([], [put(`${p}4`, text('4'))]);
      await a.txn([], [del(`${p}1`)]);
      await a.txn([], [put(`${p}5`, text('5')), put(`${p}6`, text('6'))]);

      const expected = ['put 1', 'put 2', 'put 3', 'put 4', 'delete 1', 'put 5', 'put 6'];
      for (const watch of [live, openedWhileDown]) {
        await watch.until(() => watch.events().length >= expected.length);
      }
      await sleep(300);
      for (const watch of [live, openedWhileDown]) {
        expect(watch.events().map((e) => `${e.type} ${e.key.slice(p.length)}`)).toEqual(expected);
        const revisions = watch.events().map((e) => e.modRevision);
        expect(revisions).toEqual([...revisions].sort((x, y) => x - y));
        const deliveriesPerRevision = new Map<number, Set<number>>();
        watch.batches.forEach((batch, i) => batch.forEach((e) => deliveriesPerRevision.set(e.modRevision, (deliveriesPerRevision.get(e.modRevision) ?? new Set()).add(i))));
        expect([...deliveriesPerRevision.values()].every((deliveries) => deliveries.size === 1)).toBe(true);
        expect(watch.broken).toBeUndefined();
        watch.cancel();
      }
    });

    it('calls fail within the request timeout while etcd is killed or stalled, and work again at once when it is back; a watch carries on', async () => {
      const timeoutMs = 1000;
      const b = client(timeoutMs);
      const p = prefix();
      const watch = record(b, p, (await b.list(p)).revision + 1);
      try {
        const lease = await b.grantLease(10_000);
        const calls = (outage: string) => [b.get(`${p}x`), b.list(p), b.txn([], [put(`${p}during-${outage}`, text('?'))]), b.grantLease(2000), b.keepAlive(lease), b.revokeLease('1')];

        for (const outage of ['killed', 'stalled'] as const) {
          if (outage === 'killed') await etcd.kill();
          else etcd.pause();
          const started = Date.now();
          const results = await Promise.all(calls(outage).map((call) => settle(call, started)));
          for (const { ms, error } of results) {
            expect(BrokerError.is(error, 'TIMEOUT'), `${outage}: ${String(error)}`).toBe(true);
            expect(ms, outage).toBeLessThan(timeoutMs + 1000);
          }
          if (outage === 'killed') await etcd.restart();
          else etcd.resume();
          // Back: the client reconnects on its own (gRPC's reconnect back-off starts at 1 s) and calls work again.
          const back = Date.now();
          let granted = 0;
          while (granted === 0 && Date.now() - back < 5000) granted = await b.keepAlive(lease).catch(() => 0);
          expect(granted).toBe(10_000);
          expect((await b.txn([], [put(`${p}${outage}`, text('after'))])).succeeded).toBe(true);
          expect(Date.now() - back).toBeLessThan(5000);
        }
        // Until the last key written is seen: a stalled call's put may arrive before it and would satisfy a count.
        await watch.until(() => watch.events().some((e) => e.key === `${p}stalled`));
        // a call that timed out against a stalled etcd may still apply when etcd wakes (so callers re-read)
        const keys = watch.events().map((e) => e.key.slice(p.length));
        expect(keys).toEqual(keys.includes('during-stalled') ? ['killed', 'during-stalled', 'stalled'] : ['killed', 'stalled']);
      } finally {
        watch.cancel();
        etcd.resume();
        if (etcd.pid === undefined) await etcd.restart();
        await b.close();
      }
    });

    it('grants whole seconds, at least etcd\'s minimum, and keepAlive answers that TTL in ms', async () => {
      // (that keepAlive answers 0 once a lease expired is the conformance suite's lease-expiry test)
      const short = await a.grantLease(300);
      const odd = await a.grantLease(etcd.minLeaseTtlMs + 1);
      expect(await a.keepAlive(short)).toBe(etcd.minLeaseTtlMs);
      expect(await a.keepAlive(odd)).toBe(etcd.minLeaseTtlMs + 1000);
      await a.revokeLease(short);
      await a.revokeLease(odd);
    });

    it('a delete event carries the create revision of the key it deleted', async () => {
      const p = prefix();
      const first = await a.txn([], [put(`${p}k`, text('1'))]);
      await a.txn([], [del(`${p}k`)]);
      const second = await a.txn([], [put(`${p}k`, text('2'))]);
      await a.txn([], [delPrefix(p)]);
      const watch = record(a, p, first.revision);
      await watch.until(() => watch.events().length >= 4);
      watch.cancel();
      expect(watch.events().map((e) => [e.type, e.createRevision])).toEqual([
        ['put', first.revision],
        ['delete', first.revision],
        ['put', second.revision],
        ['delete', second.revision],
      ]);
    });

    it('ends a watch with onBroken when its start revision was compacted; a watch from the compaction revision on works', async () => {
      const p = prefix();
      const old = await a.txn([], [put(`${p}k`, text('old'))]);
      const kept = await a.txn([], [put(`${p}k`, text('kept'))]);
      const raw = new Etcd3({ hosts: etcd.endpoint });
      try {
        await raw.kv.compact({ revision: kept.revision, physical: true });
      } finally {
        raw.close();
      }
      const gone = record(a, p, old.revision);
      const fine = record(a, p, kept.revision);
      await gone.until(() => gone.broken !== undefined);
      await fine.until(() => fine.events().length >= 1);
      expect(gone.broken?.message).toMatch(/compacted/);
      expect(gone.events()).toEqual([]);
      expect(fine.events().map((e) => e.value.toString())).toEqual(['kept']);
      expect(fine.broken).toBeUndefined();
      fine.cancel();
      gone.cancel();
    });

    it('leaves nothing that keeps the process alive once closed (sockets, streams, timers)', async () => {
      const baseline = activeResources();
      const live = client();
      const unreachable = new EtcdCoordination({ endpoints: ['http://127.0.0.1:1'], name: 'wharf-test', leaseTtlMs: 2000, requestTimeoutMs: 500 });
      const lease = await live.grantLease(2000);
      const { revision } = await live.txn([], [put(`${prefix()}k`, text('v'), lease)]);
      await live.keepAlive(lease);
      const watch = record(live, '', revision);
      await watch.until(() => watch.events().length > 0);
      await expect(unreachable.connect()).rejects.toThrow();
      unreachable.watch('', 1, { onEvents: () => undefined, onBroken: () => undefined });
      expect(activeResources()).not.toEqual(baseline);
      await live.close();
      await unreachable.close();
      const deadline = Date.now() + 3000;
      while (activeResources() !== baseline && Date.now() < deadline) await sleep(20);
      expect(activeResources()).toEqual(baseline);
    });
  });
});
