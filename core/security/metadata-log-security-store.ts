import { BrokerError } from '../errors.ts';
import type { StorageEngine } from '../storage/partition-log.ts';
import { MetadataLog } from '../topics/metadata-log.ts';
import { aclId, aclOf, type AclBinding } from './acl.ts';
import type { User } from './credentials.ts';
import type { SecurityStore } from './security-store.ts';

const USER = 'user/';
const ACL = 'acl/';

type Entry = User | AclBinding;

/** A single node's users and ACLs: the `__wharf_security` metadata log, replayed on open, synced on every change. */
export class MetadataLogSecurityStore implements SecurityStore {
  private log: MetadataLog<Entry> | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly engine: StorageEngine) {}

  get description(): string {
    return 'the __wharf_security log';
  }

  async open(): Promise<void> {
    if (this.log) return;
    this.log = await MetadataLog.open<Entry>(this.engine, 'security');
    // Whoever indexed the (then empty) store before it opened must see what the log held.
    this.changed();
  }

  async close(): Promise<void> {
    this.log = undefined;
  }

  user(name: string): User | undefined {
    return this.log?.get(USER + name) as User | undefined;
  }

  *users(): Iterable<User> {
    for (const [key, value] of this.log?.entries() ?? []) if (key.startsWith(USER)) yield value as User;
  }

  *acls(): Iterable<AclBinding> {
    for (const [key, value] of this.log?.entries() ?? []) if (key.startsWith(ACL)) yield value as AclBinding;
  }

  async updateUser(name: string, change: (user: User | undefined) => User | undefined): Promise<void> {
    const next = change(this.user(name));
    await this.opened().write([[USER + name, next]]);
    this.changed();
  }

  async changeAcls(add: readonly AclBinding[], remove: readonly AclBinding[]): Promise<void> {
    const changes = new Map<string, AclBinding | undefined>();
    for (const acl of remove) if (this.opened().has(ACL + aclId(acl))) changes.set(ACL + aclId(acl), undefined);
    for (const acl of add) changes.set(ACL + aclId(acl), aclOf(acl));
    await this.opened().write([...changes]);
    this.changed();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private opened(): MetadataLog<Entry> {
    if (!this.log) throw new BrokerError('BROKER_STATE', 'the security store is not open');
    return this.log;
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
