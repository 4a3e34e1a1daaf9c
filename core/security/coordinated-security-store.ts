import { decode, encode } from '../cluster/cluster-model.ts';
import { del, put, type CoordinationBackend, type Operation, type StoredKey, type Watch, type WatchEvent } from '../cluster/coordination.ts';
import type { Logger } from '../logging.ts';
import { aclId, aclOf, type AclBinding } from './acl.ts';
import type { User } from './credentials.ts';
import type { SecurityStore } from './security-store.ts';

const PREFIX = 'security/';
const USERS = `${PREFIX}users/`;
const ACLS = `${PREFIX}acls/`;
/** Keys written per transaction (etcd refuses transactions of more than 128 operations by default). */
const OPS_PER_TXN = 100;

/**
 * Cluster mode: users and ACLs in the coordination store, the same on every member. Listed once, then
 * kept current by a watch; each change resolves once this member's copy shows it.
 */
export class CoordinatedSecurityStore implements SecurityStore {
  private readonly userMap = new Map<string, { user: User; modRevision: number }>();
  private readonly aclMap = new Map<string, AclBinding>();
  private readonly listeners = new Set<() => void>();
  private readonly waiters: Array<{ revision: number; resolve: () => void }> = [];
  private revision = 0;
  private watch: Watch | undefined;
  private closed = false;

  constructor(
    private readonly backend: CoordinationBackend,
    private readonly logger: Logger,
  ) {}

  get description(): string {
    return `the coordination store (${this.backend.description})`;
  }

  async open(): Promise<void> {
    this.closed = false;
    await this.resync();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watch?.cancel();
    this.watch = undefined;
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  user(name: string): User | undefined {
    return this.userMap.get(name)?.user;
  }

  *users(): Iterable<User> {
    for (const { user } of this.userMap.values()) yield user;
  }

  acls(): Iterable<AclBinding> {
    return this.aclMap.values();
  }

  async updateUser(name: string, change: (user: User | undefined) => User | undefined): Promise<void> {
    const key = USERS + name;
    let current: { user: User | undefined; modRevision: number } = this.userMap.get(name) ?? { user: undefined, modRevision: 0 };
    for (;;) {
      const next = change(current.user);
      if (next === undefined && current.user === undefined) return;
      const result = await this.backend.txn([{ key, modRevision: current.modRevision }], [next === undefined ? del(key) : put(key, encode(next))]);
      if (result.succeeded) return this.applied(result.revision);
      const stored = await this.backend.get(key);
      current = stored ? { user: decode<User>(stored.value), modRevision: stored.modRevision } : { user: undefined, modRevision: 0 };
    }
  }

  async changeAcls(add: readonly AclBinding[], remove: readonly AclBinding[]): Promise<void> {
    const ops: Operation[] = [...remove.map((acl) => del(ACLS + aclId(acl))), ...add.map((acl) => put(ACLS + aclId(acl), encode(aclOf(acl))))];
    let revision = 0;
    for (let i = 0; i < ops.length; i += OPS_PER_TXN) revision = (await this.backend.txn([], ops.slice(i, i + OPS_PER_TXN))).revision;
    if (revision > 0) await this.applied(revision);
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
    const { keys, revision } = await this.backend.list(PREFIX);
    if (this.closed) return;
    this.userMap.clear();
    this.aclMap.clear();
    for (const kv of keys) this.apply(kv, 'put');
    this.advance(revision);
    this.watch = this.backend.watch(PREFIX, revision + 1, {
      onEvents: (events) => {
        if (this.closed || events.length === 0) return;
        for (const event of events) this.apply(event, event.type);
        this.advance(events[events.length - 1]!.modRevision);
      },
      onBroken: (err) => {
        if (this.closed) return;
        this.logger.warn({ err: err.message }, 'security watch broken; listing again');
        this.resync().catch((e: unknown) => this.logger.error({ err: e }, 'security resync failed'));
      },
    });
  }

  private apply(kv: StoredKey | WatchEvent, type: 'put' | 'delete'): void {
    try {
      if (kv.key.startsWith(USERS)) {
        const name = kv.key.slice(USERS.length);
        if (type === 'put') this.userMap.set(name, { user: decode<User>(kv.value), modRevision: kv.modRevision });
        else this.userMap.delete(name);
      } else if (kv.key.startsWith(ACLS)) {
        if (type === 'put') this.aclMap.set(kv.key, decode<AclBinding>(kv.value));
        else this.aclMap.delete(kv.key);
      }
    } catch (err) {
      this.logger.error({ err, key: kv.key }, 'undecodable security metadata; ignoring the key');
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
