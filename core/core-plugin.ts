import { ContainerModule } from 'inversify';
import { BrokerError } from './errors.ts';
import { ListenerRegistry } from './net/listener-registry.ts';
import { definePlugin, type BrokerPlugin } from './plugin.ts';
import { SingleNodeReplicator } from './replication/single-node-replicator.ts';
import type { StorageEngine } from './storage/partition-log.ts';
import { SegmentedStorageEngine } from './storage/segmented-storage-engine.ts';
import { TOKENS } from './tokens.ts';
import { TopicRegistry } from './topics/topic-registry.ts';

/** Roles the core binds unless a plugin replaces them. */
export const CORE_DEFAULT_ROLES: readonly symbol[] = [TOKENS.StorageEngine, TOKENS.Replicator];

/** The core's own services as a plugin: storage engine, replicator, topics, listeners. Always first. */
export function corePlugin(replaced: ReadonlySet<symbol>): BrokerPlugin {
  const ownsEngine = !replaced.has(TOKENS.StorageEngine);
  return definePlugin({
    name: 'core',
    provides: [TOKENS.TopicRegistry, TOKENS.ListenerRegistry, ...CORE_DEFAULT_ROLES.filter((role) => !replaced.has(role))],
    requires: ownsEngine ? [TOKENS.SegmentStore] : [TOKENS.StorageEngine],
    module: () =>
      new ContainerModule(({ bind }) => {
        if (ownsEngine) bind<StorageEngine>(TOKENS.StorageEngine).to(SegmentedStorageEngine).inSingletonScope();
        if (!replaced.has(TOKENS.Replicator)) bind(TOKENS.Replicator).to(SingleNodeReplicator).inSingletonScope();
        bind(TOKENS.TopicRegistry).to(TopicRegistry).inSingletonScope();
        bind(TOKENS.ListenerRegistry).to(ListenerRegistry).inSingletonScope();
      }),
    async start({ container }) {
      const engine = container.get<StorageEngine>(TOKENS.StorageEngine);
      await engine.open();
      try {
        await container.get<TopicRegistry>(TOKENS.TopicRegistry).open();
      } catch (err) {
        await engine.close().catch(() => undefined);
        throw new BrokerError('STORAGE_IO', 'the topic registry could not be opened', { cause: err });
      }
    },
    async stop({ container }) {
      await container.get<TopicRegistry>(TOKENS.TopicRegistry).close();
      await container.get<StorageEngine>(TOKENS.StorageEngine).close();
    },
  });
}
