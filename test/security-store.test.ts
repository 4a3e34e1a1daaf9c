import { afterEach, describe, expect, it } from 'vitest';
import { createBroker, MemoryCoordinationStore, newScramCredential, TOKENS, type AclBinding, type Broker, type Security } from '../core/index.ts';
import { memoryCoordination } from '../core/testing/index.ts';
import { fsStorage } from '../plugins/storage-fs/index.ts';
import { memoryStorage } from '../plugins/storage-memory/index.ts';
import { eventually } from './helpers/kafka.ts';
import { tempDir } from './helpers/temp-dir.ts';

const READ_ORDERS: AclBinding = { resourceType: 'topic', resourceName: 'orders', patternType: 'literal', principal: 'User:alice', host: '*', operation: 'read', permission: 'allow' };

let brokers: Broker[] = [];
const dirs: Array<{ remove(): void }> = [];
afterEach(async () => {
  await Promise.all(brokers.map((b) => b.stop().catch(() => undefined)));
  brokers = [];
  for (const dir of dirs.splice(0)) dir.remove();
});

async function start(plugins: Parameters<typeof createBroker>[0]['plugins'], config: Record<string, unknown> = {}): Promise<Broker> {
  const broker = await createBroker({ plugins, config: { logLevel: 'silent', host: '127.0.0.1', ...config } });
  await broker.start();
  brokers.push(broker);
  return broker;
}

describe('the security store', () => {
  it('keeps users and ACLs in the data directory across a restart, and never a password', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const first = await start([fsStorage()], { dataDir: dir.path });
    const security = first.get<Security>(TOKENS.Security);
    const credential = await newScramCredential('SCRAM-SHA-512', 'hunter2-secret', 4096);
    await security.store.updateUser('alice', () => ({ name: 'alice', scram: { 'SCRAM-SHA-512': credential } }));
    await security.addAcls([READ_ORDERS]);
    await security.addAcls([READ_ORDERS]);
    expect(security.authorizer.aclCount).toBe(1);
    await first.stop();
    brokers = [];

    const { execSync } = await import('node:child_process');
    expect(execSync(`grep -rl hunter2-secret ${dir.path} || true`).toString()).toBe('');

    const second = await start([fsStorage()], { dataDir: dir.path });
    const reopened = second.get<Security>(TOKENS.Security);
    expect(reopened.store.user('alice')?.scram?.['SCRAM-SHA-512']?.storedKey.equals(credential.storedKey)).toBe(true);
    expect(reopened.authorizer.acls()).toEqual([READ_ORDERS]);
    expect(reopened.authorizer.aclCount).toBe(1);
    expect(reopened.authorizer.authorize('User:alice', '10.0.0.1', 'read', 'topic', 'orders')).toBe(true);
    expect(reopened.authorizer.authorize('User:bob', '10.0.0.1', 'read', 'topic', 'orders')).toBe(false);
    expect((await reopened.verifyPassword('alice', 'hunter2-secret'))?.name).toBe('alice');
    expect(await reopened.verifyPassword('alice', 'wrong')).toBeUndefined();
    expect(await reopened.verifyPassword('nobody', 'hunter2-secret')).toBeUndefined();
    expect(await reopened.removeAcls([{ principal: 'User:alice' }])).toEqual([[READ_ORDERS]]);
    expect(reopened.authorizer.aclCount).toBe(0);
  });

  it('in cluster mode keeps one set of users and ACLs for every member, changed by compare-and-swap', async () => {
    const store = new MemoryCoordinationStore();
    const config = (nodeId: number) => ({ nodeId, replication: { port: 'auto' }, topics: { flush: 'never' } });
    const one = await start([memoryStorage(), memoryCoordination(store, 1000)], config(1));
    const two = await start([memoryStorage(), memoryCoordination(store, 1000)], config(2));
    const [a, b] = [one.get<Security>(TOKENS.Security), two.get<Security>(TOKENS.Security)];
    await a.addAcls([READ_ORDERS]);
    await eventually(() => b.authorizer.aclCount === 1, 5000, 'the ACL on the second member');
    expect(b.authorizer.authorize('User:alice', '1.2.3.4', 'read', 'topic', 'orders')).toBe(true);

    await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).store.updateUser('counter', (user) => ({ name: 'counter', tags: [...(user?.tags ?? []), `t${i}`] }))),
    );
    await eventually(() => a.store.user('counter')?.tags?.length === 10 && b.store.user('counter')?.tags?.length === 10, 5000, 'ten tags on both members');
    await b.store.updateUser('counter', () => undefined);
    await eventually(() => a.store.user('counter') === undefined, 5000, 'the user deleted on the first member');
  });
});
