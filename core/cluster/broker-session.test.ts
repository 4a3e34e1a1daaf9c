import { describe, expect, it } from 'vitest';
import type { Clock, Timer } from '../clock.ts';
import { createRootLogger } from '../logging.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { BrokerSession, type SessionEvent } from './broker-session.ts';
import { keys } from './cluster-model.ts';
import { MemoryCoordinationStore } from './memory-coordination.ts';

const logger = createRootLogger('silent');
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('BrokerSession', () => {
  it('registers under a lease, stays valid while keepalives succeed, and refuses a second broker with the same id', async () => {
    const clock = new ManualClock();
    const store = new MemoryCoordinationStore(clock);
    const session = new BrokerSession(store.client(3000), { nodeId: 7, endpoints: {} }, clock, logger);
    await session.start();
    expect(session.valid).toBe(true);
    expect((await store.client().get(keys.broker(7)))?.createRevision).toBe(session.epoch);
    for (let i = 0; i < 10; i++) {
      clock.advance(1000);
      await flush();
    }
    expect(session.valid).toBe(true);
    const twin = new BrokerSession(store.client(3000), { nodeId: 7, endpoints: {} }, clock, logger);
    const refused = twin.start().then(
      () => 'registered',
      (err: Error) => err.message,
    );
    for (let i = 0; i < 16; i++) {
      clock.advance(500);
      await flush();
    }
    expect(await refused).toMatch(/registered by another live broker/);
    await session.stop();
    expect(await store.client().get(keys.broker(7))).toBeUndefined();
  });

  it('judges validity on its own monotonic clock: a paused process is invalid on waking, before any timer runs', async () => {
    let now = 0;
    const sleepingTimers: Clock = { now: () => now, monotonic: () => now, setTimeout: (): Timer => ({ cancel: () => undefined }) };
    const store = new MemoryCoordinationStore(new ManualClock());
    const session = new BrokerSession(store.client(3000), { nodeId: 1, endpoints: {} }, sleepingTimers, logger);
    await session.start();
    expect(session.valid).toBe(true);
    now += 2699;
    expect(session.valid).toBe(true);
    now += 2;
    expect(session.valid).toBe(false);
  });

  it('waits at start for the lease of its own previous run (killed within its TTL) to expire, then registers', async () => {
    const clock = new ManualClock();
    const store = new MemoryCoordinationStore(clock);
    const killedClient = store.client(3000);
    const killed = new BrokerSession(killedClient, { nodeId: 3, endpoints: {} }, clock, logger);
    await killed.start();
    const restarted = new BrokerSession(store.client(3000), { nodeId: 3, endpoints: {} }, clock, logger);
    const started = restarted.start().then(() => 'registered');
    killedClient.cut(); // the killed process sends no more keepalives
    for (let i = 0; i < 10; i++) {
      clock.advance(500);
      await flush();
    }
    expect(await started).toBe('registered');
    expect(restarted.epoch).toBeGreaterThan(killed.epoch);
  });

  it('registers again under a new epoch when the store expired its lease, and is fenced in between', async () => {
    const clock = new ManualClock();
    const store = new MemoryCoordinationStore(clock);
    const client = store.client(3000);
    const events: SessionEvent['type'][] = [];
    const session = new BrokerSession(client, { nodeId: 2, endpoints: {} }, clock, logger);
    session.onEvent((e) => events.push(e.type));
    await session.start();
    const first = session.epoch;
    client.cut();
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      await flush();
    }
    expect(session.valid).toBe(false);
    expect(await store.client().get(keys.broker(2))).toBeUndefined();
    client.heal();
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await flush();
    }
    expect(session.valid).toBe(true);
    expect(session.epoch).toBeGreaterThan(first);
    expect(events).toEqual(['registered', 'valid', 'fenced', 'registered', 'valid']);
    await session.stop();
  });
});
