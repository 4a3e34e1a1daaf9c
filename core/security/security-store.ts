import type { AclBinding } from './acl.ts';
import type { User } from './credentials.ts';

/**
 * Where users and ACLs live: read from memory (synchronously, on hot paths), changed durably. On a
 * single node a metadata log in the data directory; in cluster mode the coordination store, so every
 * member sees the same users and ACLs. Listeners hear every change, local or from another member.
 */
export interface SecurityStore {
  /** For logs: where the users and ACLs are kept. */
  readonly description: string;
  open(): Promise<void>;
  close(): Promise<void>;
  user(name: string): User | undefined;
  users(): Iterable<User>;
  acls(): Iterable<AclBinding>;
  /**
   * Changes one user atomically: `change` gets the stored user (or undefined) and returns the new one,
   * or undefined to delete it. Resolves once stored. In cluster mode `change` may run more than once
   * (compare-and-swap against concurrent changes), so it must not have side effects.
   */
  updateUser(name: string, change: (user: User | undefined) => User | undefined): Promise<void>;
  /** Adds bindings (ones already present stay once) and removes others, in one durable change. */
  changeAcls(add: readonly AclBinding[], remove: readonly AclBinding[]): Promise<void>;
  onChange(listener: () => void): () => void;
}
