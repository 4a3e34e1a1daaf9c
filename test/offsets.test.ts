import { afterEach, describe, expect, it } from 'vitest';
import { BrokerError, createBroker, TOKENS, type AssignorRegistry, type GroupCoordinator, type OffsetStore } from '../core/index.ts';
import { consistentHashAssignorPlugin } from '../examples/custom-assignor/plugin.ts';
import { fsStorage } from '../plugins/storage-fs/index.ts';
import { memoryStorage } from '../plugins/storage-memory/index.ts';
import { tempDir } from './helpers/temp-dir.ts';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

describe('offset store', () => {
  it('keeps committed offsets across a broker restart on storage-fs, and forgets deleted groups', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const start = async () => (await createBroker({ plugins: [fsStorage()], config: { dataDir: dir.path, logLevel: 'silent' } })).start();
    let broker = await start();
    let offsets = broker.get<OffsetStore>(TOKENS.OffsetStore);
    await offsets.commit('g1', [
      { topic: 'a', partition: 0, offset: 10, metadata: 'first' },
      { topic: 'a', partition: 1, offset: 20 },
    ]);
    await offsets.commit('g1', [{ topic: 'a', partition: 0, offset: 11, leaderEpoch: 3 }]);
    await offsets.commit('g2', [{ topic: 'b', partition: 0, offset: 5 }]);
    await offsets.commit('g3', [{ topic: 'c', partition: 0, offset: 1 }]);
    expect(await broker.get<GroupCoordinator>(TOKENS.GroupCoordinator).delete('g3')).toBeUndefined();
    await broker.stop();

    broker = await start();
    offsets = broker.get<OffsetStore>(TOKENS.OffsetStore);
    expect(offsets.fetch('g1', 'a', 0)).toMatchObject({ offset: 11, leaderEpoch: 3, metadata: null });
    expect(offsets.fetch('g1', 'a', 1)).toMatchObject({ offset: 20, leaderEpoch: -1 });
    expect(offsets.fetchAll('g2')).toMatchObject([{ topic: 'b', partition: 0, offset: 5 }]);
    expect(offsets.fetch('g3', 'c', 0)).toBeUndefined();
    expect(offsets.groups().sort()).toEqual(['g1', 'g2']);
    await broker.stop();
  });
});

describe('assignor registry', () => {
  it('holds the built-in assignors plus any a plugin binds, and uses the configured default', async () => {
    const broker = await createBroker({
      plugins: [memoryStorage(), consistentHashAssignorPlugin],
      config: { logLevel: 'silent', groups: { assignor: 'consistent-hash' } },
    });
    await broker.start();
    const registry = broker.get<AssignorRegistry>(TOKENS.AssignorRegistry);
    expect(registry.names.sort()).toEqual(['consistent-hash', 'range', 'roundrobin', 'sticky']);
    expect(registry.default.name).toBe('consistent-hash');
    expect(() => registry.get('nope')).toThrow(BrokerError);
    await broker.stop();
  });

  it('refuses to start with an assignor nobody registered', async () => {
    const broker = await createBroker({ plugins: [memoryStorage()], config: { logLevel: 'silent', groups: { assignor: 'cooperative-magic' } } });
    await expect(broker.start()).rejects.toSatisfy((e) => BrokerError.is(e, 'UNKNOWN_ASSIGNOR'));
  });
});
