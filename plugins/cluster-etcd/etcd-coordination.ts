import { castGrpcError, CompareResult, CompareTarget, EtcdLeaseInvalidError, isRecoverableError, type ICompare, type IKeyValue, type IRequestOp } from 'etcd3';
import {
  BrokerError,
  type Condition,
  type CoordinationBackend,
  type Logger,
  type Operation,
  type StoredKey,
  type TxnResult,
  type Watch,
  type WatchListener,
} from '../../core/index.ts';
import { EtcdClient } from './etcd-client.ts';
import { ResumingWatch } from './etcd-watch.ts';

export interface EtcdCoordinationOptions {
  /** etcd client URLs, e.g. `http://127.0.0.1:2379`. */
  readonly endpoints: readonly string[];
  /** The cluster's name: every key lives under `/<name>/`. */
  readonly name: string;
  readonly leaseTtlMs: number;
  /** How long one call may take before it fails. */
  readonly requestTimeoutMs: number;
  readonly logger?: Logger;
}

/**
 * The coordination seam on etcd 3.4 (through the etcd3 client's raw KV, Lease and Watch calls). Keys
 * are relative to `/<name>/`; revisions, CAS transactions, leases and watches are etcd's own.
 */
export class EtcdCoordination implements CoordinationBackend {
  readonly description: string;
  readonly leaseTtlMs: number;
  private readonly namespace: Buffer;
  private readonly requestTimeoutMs: number;
  private readonly watches = new Set<ResumingWatch>();
  private readonly client: EtcdClient;
  private closed = false;

  constructor(private readonly options: EtcdCoordinationOptions) {
    if (options.endpoints.length === 0) throw new BrokerError('CONFIG_INVALID', 'etcd needs at least one endpoint');
    this.namespace = Buffer.from(`/${options.name}/`);
    this.leaseTtlMs = options.leaseTtlMs;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.description = `etcd ${options.endpoints.join(',')} under ${this.namespace.toString()}`;
    this.client = new EtcdClient({ endpoints: options.endpoints, requestTimeoutMs: options.requestTimeoutMs });
  }

  /** Checks that etcd answers (the client connects lazily, and again by itself after losing etcd). */
  async connect(): Promise<void> {
    await this.call(() => this.etcd.maintenance.status());
  }

  /** Ends every watch and closes the client's connections; later calls fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watch of [...this.watches]) watch.cancel();
    this.client.close();
  }

  async get(key: string): Promise<StoredKey | undefined> {
    const response = await this.call(() => this.etcd.kv.range({ key: this.encode(key) }));
    const kv = response.kvs[0];
    return kv && this.toStoredKey(kv);
  }

  async list(prefix: string): Promise<{ keys: StoredKey[]; revision: number }> {
    const key = this.encode(prefix);
    const response = await this.call(() => this.etcd.kv.range({ key, range_end: prefixEnd(key) }));
    return { keys: response.kvs.map((kv) => this.toStoredKey(kv)), revision: Number(response.header.revision) };
  }

  async txn(conditions: readonly Condition[], success: readonly Operation[], failure: readonly Operation[] = []): Promise<TxnResult> {
    const response = await this.call(() =>
      this.etcd.kv.txn({
        compare: conditions.map((c) => this.toCompare(c)),
        success: success.map((op) => this.toRequestOp(op)),
        failure: failure.map((op) => this.toRequestOp(op)),
      }),
    );
    return { succeeded: response.succeeded, revision: Number(response.header.revision) };
  }

  /** etcd grants whole seconds, at least ceil(1.5 × its election timeout): the TTL is rounded up. */
  async grantLease(ttlMs: number): Promise<string> {
    const response = await this.call(() => this.etcd.leaseClient.leaseGrant({ TTL: Math.max(1, Math.ceil(ttlMs / 1000)) }));
    if (response.error) throw new BrokerError('INTERNAL', `etcd refused a lease: ${response.error}`);
    return response.ID;
  }

  /**
   * One keepalive round trip on a stream of its own, bounded by the request timeout. The caller runs
   * the keepalive loop (and its deadline); etcd answers TTL 0 for a lease that expired or was revoked.
   */
  async keepAlive(lease: string): Promise<number> {
    const stream = await this.call(() => this.etcd.leaseClient.leaseKeepAlive({ deadline: Date.now() + this.requestTimeoutMs }));
    const ttlSeconds = await new Promise<number>((resolve, reject) => {
      stream.on('data', (response) => resolve(Number(response.TTL)));
      stream.on('error', (err) => reject(this.translate(err)));
      stream.on('end', () => reject(new BrokerError('TIMEOUT', 'etcd ended a keepalive without an answer')));
      stream.write({ ID: lease });
    });
    stream.end();
    return ttlSeconds * 1000;
  }

  async revokeLease(lease: string): Promise<void> {
    try {
      await this.call(() => this.etcd.leaseClient.leaseRevoke({ ID: lease }));
    } catch (err) {
      if (!BrokerError.is(err, 'NOT_FOUND')) throw err;
    }
  }

  watch(prefix: string, fromRevision: number, listener: WatchListener): Watch {
    const key = this.encode(prefix);
    const range = { prefix, key, rangeEnd: prefixEnd(key), decodeKey: (stored: Buffer) => this.decode(stored) };
    const watch = new ResumingWatch(this.etcd, range, fromRevision, listener, (w) => this.watches.delete(w), this.options.logger);
    this.watches.add(watch);
    return watch;
  }

  private get etcd(): EtcdClient {
    if (this.closed) throw new BrokerError('BROKER_STATE', 'the etcd coordination backend is closed');
    return this.client;
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw this.translate(err);
    }
  }

  private translate(thrown: unknown): BrokerError {
    if (thrown instanceof BrokerError) return thrown;
    if (!(thrown instanceof Error)) return new BrokerError('INTERNAL', `etcd failed a call: ${String(thrown)}`);
    const err = castGrpcError(thrown);
    if (err instanceof EtcdLeaseInvalidError) return new BrokerError('NOT_FOUND', 'the lease does not exist in etcd', { cause: err });
    if (isRecoverableError(err)) return new BrokerError('TIMEOUT', `etcd (${this.options.endpoints.join(',')}) did not answer: ${err.message}`, { cause: err });
    return new BrokerError('INTERNAL', `etcd failed a call: ${err.message}`, { cause: err });
  }

  private toCompare(condition: Condition): ICompare {
    const key = this.encode(condition.key);
    return 'createRevision' in condition
      ? { key, target: CompareTarget.Create, result: CompareResult.Equal, create_revision: condition.createRevision }
      : { key, target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: condition.modRevision };
  }

  private toRequestOp(op: Operation): IRequestOp {
    switch (op.type) {
      case 'put':
        return { request_put: { key: this.encode(op.key), value: op.value, lease: op.lease ?? 0 } };
      case 'delete':
        return { request_delete_range: { key: this.encode(op.key) } };
      case 'deletePrefix': {
        const key = this.encode(op.prefix);
        return { request_delete_range: { key, range_end: prefixEnd(key) } };
      }
    }
  }

  private toStoredKey(kv: IKeyValue): StoredKey {
    return { key: this.decode(kv.key), value: kv.value, createRevision: Number(kv.create_revision), modRevision: Number(kv.mod_revision) };
  }

  private encode(key: string): Buffer {
    return Buffer.concat([this.namespace, Buffer.from(key)]);
  }

  private decode(stored: Buffer): string {
    return stored.subarray(this.namespace.length).toString();
  }
}

/** The end of etcd's range for every key starting with `prefix`: the prefix with its last byte below 0xff bumped. */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
