import type { Clock, Timer } from '../clock.ts';
import { systemClock } from '../clock.ts';
import { BrokerError } from '../errors.ts';
import type { Condition, CoordinationBackend, Operation, StoredKey, TxnResult, Watch, WatchEvent, WatchListener } from './coordination.ts';

interface Entry extends StoredKey {
  readonly lease: string | undefined;
}

interface LeaseState {
  ttlMs: number;
  timer: Timer;
  keys: Set<string>;
}

interface Subscriber {
  prefix: string;
  listener: WatchListener;
}

/**
 * An in-process coordination store with etcd's semantics (one revision counter, CAS transactions,
 * leases on a clock, ordered watches with history). Several brokers of one process share one store
 * through `client()`; a client can be cut off to simulate a partition from the store.
 */
export class MemoryCoordinationStore {
  private revision = 0;
  private readonly keys = new Map<string, Entry>();
  private readonly history: WatchEvent[] = [];
  private readonly leases = new Map<string, LeaseState>();
  private readonly subscribers = new Set<Subscriber>();
  private nextLease = 1;

  constructor(readonly clock: Clock = systemClock) {}

  client(leaseTtlMs = 2000): MemoryCoordination {
    return new MemoryCoordination(this, leaseTtlMs);
  }

  /** @internal */
  read(key: string): StoredKey | undefined {
    const entry = this.keys.get(key);
    return entry && strip(entry);
  }

  /** @internal */
  list(prefix: string): { keys: StoredKey[]; revision: number } {
    const keys = [...this.keys.values()].filter((e) => e.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : 1));
    return { keys: keys.map(strip), revision: this.revision };
  }

  /** @internal */
  txn(conditions: readonly Condition[], success: readonly Operation[], failure: readonly Operation[]): TxnResult {
    const holds = conditions.every((c) => {
      const entry = this.keys.get(c.key);
      return 'createRevision' in c ? (entry?.createRevision ?? 0) === c.createRevision : (entry?.modRevision ?? 0) === c.modRevision;
    });
    const ops = holds ? success : failure;
    for (const op of ops) if (op.type === 'put' && op.lease !== undefined && !this.leases.has(op.lease)) throw new BrokerError('NOT_FOUND', `lease ${op.lease} not found`);
    this.apply(ops);
    return { succeeded: holds, revision: this.revision };
  }

  /** @internal */
  grant(ttlMs: number): string {
    const id = String(this.nextLease++);
    const state: LeaseState = { ttlMs, timer: this.expireLater(id, ttlMs), keys: new Set() };
    this.leases.set(id, state);
    return id;
  }

  /** @internal */
  keepAlive(id: string): number {
    const state = this.leases.get(id);
    if (!state) return 0;
    state.timer.cancel();
    state.timer = this.expireLater(id, state.ttlMs);
    return state.ttlMs;
  }

  /** @internal */
  revoke(id: string): void {
    const state = this.leases.get(id);
    if (!state) return;
    state.timer.cancel();
    this.leases.delete(id);
    this.apply([...state.keys].map((key) => ({ type: 'delete', key })));
  }

  /** @internal */
  subscribe(prefix: string, fromRevision: number, listener: WatchListener): Watch {
    const subscriber: Subscriber = { prefix, listener };
    const past = this.history.filter((e) => e.modRevision >= fromRevision && e.key.startsWith(prefix));
    this.subscribers.add(subscriber);
    if (past.length > 0) queueMicrotask(() => this.subscribers.has(subscriber) && listener.onEvents(past));
    return { cancel: () => this.subscribers.delete(subscriber) };
  }

  private expireLater(id: string, ttlMs: number): Timer {
    return this.clock.setTimeout(() => this.revoke(id), ttlMs);
  }

  /** Applies operations as one revision (none if nothing changes). */
  private apply(ops: readonly Operation[]): void {
    const revision = this.revision + 1;
    const events: WatchEvent[] = [];
    const remove = (entry: Entry): void => {
      this.keys.delete(entry.key);
      if (entry.lease !== undefined) this.leases.get(entry.lease)?.keys.delete(entry.key);
      events.push({ type: 'delete', key: entry.key, value: EMPTY, createRevision: entry.createRevision, modRevision: revision });
    };
    for (const op of ops) {
      if (op.type === 'put') {
        const previous = this.keys.get(op.key);
        if (previous?.lease !== undefined && previous.lease !== op.lease) this.leases.get(previous.lease)?.keys.delete(op.key);
        const entry: Entry = { key: op.key, value: Buffer.from(op.value), createRevision: previous?.createRevision ?? revision, modRevision: revision, lease: op.lease };
        this.keys.set(op.key, entry);
        if (op.lease !== undefined) this.leases.get(op.lease)!.keys.add(op.key);
        events.push({ type: 'put', key: entry.key, value: entry.value, createRevision: entry.createRevision, modRevision: revision });
      } else if (op.type === 'delete') {
        const entry = this.keys.get(op.key);
        if (entry) remove(entry);
      } else {
        for (const entry of [...this.keys.values()]) if (entry.key.startsWith(op.prefix)) remove(entry);
      }
    }
    if (events.length === 0) return;
    this.revision = revision;
    this.history.push(...events);
    for (const subscriber of this.subscribers) {
      const mine = events.filter((e) => e.key.startsWith(subscriber.prefix));
      if (mine.length > 0) queueMicrotask(() => this.subscribers.has(subscriber) && subscriber.listener.onEvents(mine));
    }
  }
}

/** One broker's connection to a MemoryCoordinationStore. `cut()` makes every call fail until `heal()`. */
export class MemoryCoordination implements CoordinationBackend {
  readonly description = 'memory coordination store';
  private cutOff = false;
  private readonly watches = new Set<{ prefix: string; listener: WatchListener; inner: Watch; lastRevision: number }>();

  constructor(
    private readonly store: MemoryCoordinationStore,
    readonly leaseTtlMs: number,
  ) {}

  async connect(): Promise<void> {}

  async close(): Promise<void> {
    for (const watch of this.watches) watch.inner.cancel();
    this.watches.clear();
  }

  /** Simulates losing the store: calls fail and watches stop delivering until heal(). */
  cut(): void {
    this.cutOff = true;
    for (const watch of this.watches) watch.inner.cancel();
  }

  heal(): void {
    this.cutOff = false;
    for (const watch of this.watches) watch.inner = this.store.subscribe(watch.prefix, watch.lastRevision + 1, this.forward(watch));
  }

  async get(key: string): Promise<StoredKey | undefined> {
    this.check();
    return this.store.read(key);
  }

  async list(prefix: string): Promise<{ keys: StoredKey[]; revision: number }> {
    this.check();
    return this.store.list(prefix);
  }

  async txn(conditions: readonly Condition[], success: readonly Operation[], failure: readonly Operation[] = []): Promise<TxnResult> {
    this.check();
    return this.store.txn(conditions, success, failure);
  }

  async grantLease(ttlMs: number): Promise<string> {
    this.check();
    return this.store.grant(ttlMs);
  }

  async keepAlive(lease: string): Promise<number> {
    this.check();
    return this.store.keepAlive(lease);
  }

  async revokeLease(lease: string): Promise<void> {
    this.check();
    this.store.revoke(lease);
  }

  watch(prefix: string, fromRevision: number, listener: WatchListener): Watch {
    const watch = { prefix, listener, inner: { cancel: () => undefined } as Watch, lastRevision: fromRevision - 1 };
    if (!this.cutOff) watch.inner = this.store.subscribe(prefix, fromRevision, this.forward(watch));
    this.watches.add(watch);
    return {
      cancel: () => {
        watch.inner.cancel();
        this.watches.delete(watch);
      },
    };
  }

  private forward(watch: { listener: WatchListener; lastRevision: number }): WatchListener {
    return {
      onEvents: (events) => {
        const fresh = events.filter((e) => e.modRevision > watch.lastRevision);
        if (fresh.length === 0) return;
        watch.lastRevision = fresh[fresh.length - 1]!.modRevision;
        watch.listener.onEvents(fresh);
      },
      onBroken: (err) => watch.listener.onBroken(err),
    };
  }

  private check(): void {
    if (this.cutOff) throw new BrokerError('TIMEOUT', 'the coordination store is unreachable');
  }
}

function strip(entry: Entry): StoredKey {
  return { key: entry.key, value: entry.value, createRevision: entry.createRevision, modRevision: entry.modRevision };
}

const EMPTY = Buffer.alloc(0);
