import { CoordinatedMap } from '../cluster/coordinated-map.ts';
import type { CoordinationBackend } from '../cluster/coordination.ts';
import type { Logger } from '../logging.ts';
import { aclId, aclOf, type AclBinding } from './acl.ts';
import type { User } from './credentials.ts';
import type { SecurityStore } from './security-store.ts';

/** Cluster mode: users and ACLs in the coordination store (`security/users/`, `security/acls/`), the same on every member. */
export class CoordinatedSecurityStore implements SecurityStore {
  private readonly userMap: CoordinatedMap<User>;
  private readonly aclMap: CoordinatedMap<AclBinding>;

  constructor(
    private readonly backend: CoordinationBackend,
    logger: Logger,
  ) {
    this.userMap = new CoordinatedMap(backend, 'security/users/', logger);
    this.aclMap = new CoordinatedMap(backend, 'security/acls/', logger);
  }

  get description(): string {
    return `the coordination store (${this.backend.description})`;
  }

  async open(): Promise<void> {
    await Promise.all([this.userMap.open(), this.aclMap.open()]);
  }

  async close(): Promise<void> {
    this.userMap.close();
    this.aclMap.close();
  }

  user(name: string): User | undefined {
    return this.userMap.get(name);
  }

  users(): Iterable<User> {
    return this.userMap.values();
  }

  acls(): Iterable<AclBinding> {
    return this.aclMap.values();
  }

  updateUser(name: string, change: (user: User | undefined) => User | undefined): Promise<void> {
    return this.userMap.update(name, change);
  }

  changeAcls(add: readonly AclBinding[], remove: readonly AclBinding[]): Promise<void> {
    return this.aclMap.write([...remove.map((acl) => [aclId(acl), undefined] as const), ...add.map((acl) => [aclId(acl), aclOf(acl)] as const)]);
  }

  onChange(listener: () => void): () => void {
    const detach = [this.userMap.onChange(listener), this.aclMap.onChange(listener)];
    return () => detach.forEach((d) => d());
  }
}
