import { describe, expect, it } from 'vitest';
import type { AclBinding } from './acl.ts';
import { AuthorizationCache } from './authorization-cache.ts';
import { Authorizer } from './authorizer.ts';
import type { User } from './credentials.ts';
import type { SecurityStore } from './security-store.ts';

class TestStore implements SecurityStore {
  readonly description = 'test';
  readonly userMap = new Map<string, User>();
  aclList: AclBinding[] = [];
  private readonly listeners = new Set<() => void>();
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  user(name: string): User | undefined {
    return this.userMap.get(name);
  }
  users(): Iterable<User> {
    return this.userMap.values();
  }
  acls(): Iterable<AclBinding> {
    return this.aclList;
  }
  async updateUser(name: string, change: (user: User | undefined) => User | undefined): Promise<void> {
    const next = change(this.userMap.get(name));
    if (next) this.userMap.set(name, next);
    else this.userMap.delete(name);
    this.changed();
  }
  async changeAcls(add: readonly AclBinding[], remove: readonly AclBinding[]): Promise<void> {
    this.aclList = [...this.aclList.filter((a) => !remove.includes(a)), ...add];
    this.changed();
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  private changed(): void {
    for (const l of this.listeners) l();
  }
}

const acl = (over: Partial<AclBinding>): AclBinding => ({
  resourceType: 'topic',
  resourceName: 'orders',
  patternType: 'literal',
  principal: 'User:alice',
  host: '*',
  operation: 'read',
  permission: 'allow',
  ...over,
});

function setup(acls: AclBinding[], options: { allowIfNoAcl?: boolean; superUsers?: string[] } = {}) {
  const store = new TestStore();
  store.aclList = acls;
  const authorizer = new Authorizer(store, { allowIfNoAcl: options.allowIfNoAcl ?? false, superUsers: new Set(options.superUsers ?? []) });
  return { store, authorizer, can: (principal: string, op: AclBinding['operation'], name = 'orders', type = 'topic', host = '10.0.0.1') => authorizer.authorize(principal, host, op, type, name) };
}

describe("Authorizer (Kafka's StandardAuthorizer rules)", () => {
  it('allows by literal, wildcard and prefixed patterns, for the principal or User:*, from the host or *', () => {
    const { can } = setup([
      acl({}),
      acl({ resourceName: '*', principal: 'User:*', operation: 'describe' }),
      acl({ resourceName: 'pay', patternType: 'prefixed', operation: 'write' }),
      acl({ resourceName: 'audit', host: '10.0.0.2' }),
    ]);
    expect(can('User:alice', 'read')).toBe(true);
    expect(can('User:bob', 'read')).toBe(false);
    expect(can('User:bob', 'describe', 'anything')).toBe(true);
    expect(can('User:alice', 'write', 'payments')).toBe(true);
    expect(can('User:alice', 'write', 'pa')).toBe(false);
    expect(can('User:alice', 'read', 'audit')).toBe(false);
    expect(can('User:alice', 'read', 'audit', 'topic', '10.0.0.2')).toBe(true);
  });

  it('lets any DENY win, and ALLOW imply DESCRIBE (READ/WRITE/DELETE/ALTER) and DESCRIBE_CONFIGS (ALTER_CONFIGS) but not DENY', () => {
    const { can } = setup([acl({}), acl({ operation: 'alter-configs' }), acl({ resourceName: '*', principal: 'User:*', operation: 'read', permission: 'deny', host: '10.9.9.9' })]);
    expect(can('User:alice', 'describe')).toBe(true);
    expect(can('User:alice', 'describe-configs')).toBe(true);
    expect(can('User:alice', 'write')).toBe(false);
    expect(can('User:alice', 'read', 'orders', 'topic', '10.9.9.9')).toBe(false);
    const denyRead = setup([acl({ operation: 'all' }), acl({ operation: 'read', permission: 'deny' })]);
    expect(denyRead.can('User:alice', 'read')).toBe(false);
    expect(denyRead.can('User:alice', 'describe')).toBe(true);
    expect(denyRead.can('User:alice', 'write')).toBe(true);
  });

  it('answers allowIfNoAcl only for resources no binding names, and lets super users (configured or flagged) do anything', async () => {
    const open = setup([acl({ operation: 'read', permission: 'deny', principal: 'User:mallory' })], { allowIfNoAcl: true, superUsers: ['User:root'] });
    expect(open.can('User:anyone', 'write', 'other')).toBe(true);
    expect(open.can('User:anyone', 'read', 'orders')).toBe(false);
    expect(open.can('User:mallory', 'read')).toBe(false);
    expect(open.can('User:root', 'read')).toBe(true);
    await open.store.updateUser('boss', () => ({ name: 'boss', superUser: true }));
    expect(open.can('User:boss', 'read')).toBe(true);
    const closed = setup([], { allowIfNoAcl: false });
    expect(closed.can('User:anyone', 'read')).toBe(false);
    expect(closed.authorizer.allowsEverything).toBe(false);
  });

  it('scopes AMQP-style regex bindings to their vhost and matches CIDR hosts (RocketMQ source IPs)', () => {
    const { authorizer } = setup([
      acl({ resourceType: 'queue', resourceName: '^amq\\.gen', patternType: 'regex', scope: '/', operation: 'alter' }),
      acl({ host: '10.1.0.0/16', principal: 'User:bob' }),
    ]);
    expect(authorizer.authorize('User:alice', '1.2.3.4', 'alter', 'queue', 'amq.gen-123', '/')).toBe(true);
    expect(authorizer.authorize('User:alice', '1.2.3.4', 'alter', 'queue', 'amq.gen-123', 'other')).toBe(false);
    expect(authorizer.authorize('User:alice', '1.2.3.4', 'alter', 'queue', 'x-amq.gen', '/')).toBe(false);
    expect(authorizer.authorize('User:bob', '10.1.200.3', 'read', 'topic', 'orders')).toBe(true);
    expect(authorizer.authorize('User:bob', '10.2.0.3', 'read', 'topic', 'orders')).toBe(false);
    expect(authorizer.authorize('User:bob', '', 'read', 'topic', 'orders')).toBe(false);
  });

  it('authorizeByResourceType finds an ALLOW on some topic that no DENY on the same or a broader pattern cancels', () => {
    expect(setup([acl({ operation: 'write' })]).authorizer.authorizeByResourceType('User:alice', '1.1.1.1', 'write', 'topic')).toBe(true);
    expect(setup([acl({ operation: 'write' }), acl({ operation: 'write', permission: 'deny', patternType: 'prefixed', resourceName: 'ord' })]).authorizer.authorizeByResourceType('User:alice', '1.1.1.1', 'write', 'topic')).toBe(false);
    expect(setup([acl({ operation: 'read' })]).authorizer.authorizeByResourceType('User:alice', '1.1.1.1', 'write', 'topic')).toBe(false);
  });

  it('a connection cache answers from memory until an ACL changes', async () => {
    const { store, authorizer } = setup([acl({})]);
    const cache = new AuthorizationCache(authorizer, 'User:alice', '::ffff:10.0.0.1');
    expect(cache.host).toBe('10.0.0.1');
    expect(cache.allows('read', 'topic', 'orders')).toBe(true);
    expect(cache.allows('write', 'topic', 'orders')).toBe(false);
    await store.changeAcls([acl({ operation: 'write' })], []);
    expect(cache.allows('write', 'topic', 'orders')).toBe(true);
    await store.changeAcls([acl({ permission: 'deny' })], []);
    expect(cache.allows('read', 'topic', 'orders')).toBe(false);
  });
});
