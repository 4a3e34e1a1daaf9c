/**
 * The coordination seam: what the cluster needs from a consensus store (etcd and the like) — keys with
 * revisions, atomic compare-and-swap transactions, leases that delete their keys when they lapse, and
 * ordered watches. Metadata only: message data never goes through it. The cluster's logic (membership,
 * controller, partition states) lives in core on top of this, so every backend behaves the same.
 *
 * Revisions are the store's: one counter for the whole store, bumped once per changing transaction.
 * A key's `createRevision` is the revision that created it (0 = absent); `modRevision` the last change.
 */
export interface StoredKey {
  readonly key: string;
  readonly value: Buffer;
  readonly createRevision: number;
  readonly modRevision: number;
}

/** A transaction condition: the key's create or mod revision equals the value (0 means the key is absent). */
export type Condition = { readonly key: string; readonly createRevision: number } | { readonly key: string; readonly modRevision: number };

export type Operation =
  | { readonly type: 'put'; readonly key: string; readonly value: Buffer; readonly lease?: string }
  | { readonly type: 'delete'; readonly key: string }
  | { readonly type: 'deletePrefix'; readonly prefix: string };

export interface TxnResult {
  readonly succeeded: boolean;
  /** The store revision after the transaction. */
  readonly revision: number;
}

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly key: string;
  /** Empty for a delete. */
  readonly value: Buffer;
  readonly createRevision: number;
  /** The revision of this change (for a delete, the revision that deleted it). */
  readonly modRevision: number;
}

export interface WatchListener {
  /** Changes in revision order, without gaps or repeats, each revision whole. */
  onEvents(events: readonly WatchEvent[]): void;
  /** The watch cannot continue where it was (history compacted, or broken beyond repair): list again and watch anew. */
  onBroken(err: Error): void;
}

export interface Watch {
  cancel(): void;
}

export interface CoordinationBackend {
  /** For logs and the readiness line, e.g. `etcd http://127.0.0.1:2379`. */
  readonly description: string;
  /** The TTL this broker's lease is configured to have (`--cluster-lease-ttl-ms` for etcd). */
  readonly leaseTtlMs: number;
  connect(): Promise<void>;
  close(): Promise<void>;
  get(key: string): Promise<StoredKey | undefined>;
  /** Every key under a prefix, in key order, and the revision they were read at. */
  list(prefix: string): Promise<{ keys: StoredKey[]; revision: number }>;
  /**
   * Atomically: if every condition holds, applies `success`, else `failure`. A backend that retries a
   * call after a lost reply may report `succeeded: false` for a transaction that was applied; callers
   * re-read rather than trust a failure blindly.
   */
  txn(conditions: readonly Condition[], success: readonly Operation[], failure?: readonly Operation[]): Promise<TxnResult>;
  /** A lease of at least `ttlMs` (a backend may round up to its minimum); keys put with it die with it. */
  grantLease(ttlMs: number): Promise<string>;
  /** Renews a lease: resolves with the TTL granted from now, in ms, or 0 if the lease no longer exists. */
  keepAlive(lease: string): Promise<number>;
  /** Ends a lease now, deleting its keys. Revoking an unknown lease is not an error. */
  revokeLease(lease: string): Promise<void>;
  /** Delivers every change under `prefix` from `fromRevision` on (which may be in the past). */
  watch(prefix: string, fromRevision: number, listener: WatchListener): Watch;
}

export const put = (key: string, value: Buffer, lease?: string): Operation => ({ type: 'put', key, value, lease });
export const del = (key: string): Operation => ({ type: 'delete', key });
export const delPrefix = (prefix: string): Operation => ({ type: 'deletePrefix', prefix });
