import type { Logger } from '../logging.ts';
import { decode, encode } from './cluster-model.ts';
import { del, put, type CoordinationBackend, type Operation, type StoredKey, type Watch, type WatchEvent } from './coordination.ts';

/** Keys written per transaction (etcd refuses transactions of more than 128 operations by default). */
const OPS_PER_TXN = 100;

interface Entry<V> {
  value: V;
  modRevision: number;
}

/**
 * Cluster mode: a map kept under one prefix of the coordination store, the same on every member. Listed
 * once, then kept current by a watch (listed again when the watch breaks); each write resolves once this
 * member's copy shows it, and listeners hear of every change, whoever made it.
 */
export class CoordinatedMap<V> {
  private readonly map = new Map<string, Entry<V>>();
  private readonly listeners = new Set<() => void>();
  private readonly waiters: Array<{ revision: number; resolve: () => void }> = [];
  private revision = 0;
  private watch: Watch | undefined;
  private closed = false;

  constructor(
    private readonly backend: CoordinationBackend,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  async open(): Promise<void> {
    this.closed = false;
    await this.resync();
  }

  close(): void {
    this.closed = true;
    this.watch?.cancel();
    this.watch = undefined;
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  *values(): IterableIterator<V> {
    for (const entry of this.map.values()) yield entry.value;
  }

  /** Puts (a value) or deletes (undefined) every key, in transactions of at most 100 keys. */
  async write(changes: ReadonlyArray<readonly [string, V | undefined]>): Promise<void> {
    const ops: Operation[] = changes.map(([key, value]) => (value === undefined ? del(this.prefix + key) : put(this.prefix + key, encode(value))));
    let revision = 0;
    for (let i = 0; i < ops.length; i += OPS_PER_TXN) revision = (await this.backend.txn([], ops.slice(i, i + OPS_PER_TXN))).revision;
    if (revision > 0) await this.applied(revision);
  }

  /**
   * Read-modify-write of one key: `change` sees the current value and returns the next (undefined
   * deletes); run again on the stored value when another member changed the key in between.
   */
  async update(key: string, change: (current: V | undefined) => V | undefined): Promise<void> {
    const full = this.prefix + key;
    let current: { value: V | undefined; modRevision: number } = this.map.get(key) ?? { value: undefined, modRevision: 0 };
    for (;;) {
      const next = change(current.value);
      if (next === undefined && current.value === undefined) return;
      const result = await this.backend.txn([{ key: full, modRevision: current.modRevision }], [next === undefined ? del(full) : put(full, encode(next))]);
      if (result.succeeded) return this.applied(result.revision);
      const stored = await this.backend.get(full);
      current = stored ? { value: decode<V>(stored.value), modRevision: stored.modRevision } : { value: undefined, modRevision: 0 };
    }
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private applied(revision: number): Promise<void> {
    if (this.revision >= revision || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ revision, resolve }));
  }

  private async resync(): Promise<void> {
    this.watch?.cancel();
    const { keys, revision } = await this.backend.list(this.prefix);
    if (this.closed) return;
    this.map.clear();
    for (const kv of keys) this.apply(kv, 'put');
    this.advance(revision);
    this.watch = this.backend.watch(this.prefix, revision + 1, {
      onEvents: (events) => {
        if (this.closed || events.length === 0) return;
        for (const event of events) this.apply(event, event.type);
        this.advance(events[events.length - 1]!.modRevision);
      },
      onBroken: (err) => {
        if (this.closed) return;
        this.logger.warn({ err: err.message, prefix: this.prefix }, 'watch broken; listing again');
        this.resync().catch((e: unknown) => this.logger.error({ err: e, prefix: this.prefix }, 'resync failed'));
      },
    });
  }

  private apply(kv: StoredKey | WatchEvent, type: 'put' | 'delete'): void {
    const key = kv.key.slice(this.prefix.length);
    if (type === 'delete') {
      this.map.delete(key);
      return;
    }
    try {
      this.map.set(key, { value: decode<V>(kv.value), modRevision: kv.modRevision });
    } catch (err) {
      this.logger.error({ err, key: kv.key }, 'undecodable value in the coordination store; ignoring the key');
    }
  }

  private advance(revision: number): void {
    this.revision = Math.max(this.revision, revision);
    for (const listener of this.listeners) listener();
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i]!.revision <= this.revision) this.waiters.splice(i, 1)[0]!.resolve();
    }
  }
}
