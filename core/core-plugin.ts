import { ContainerModule } from 'inversify';
import { AssignorRegistry } from './assignment/assignor-registry.ts';
import type { Assignor } from './assignment/assignor.ts';
import { RangeAssignor } from './assignment/range-assignor.ts';
import { RoundRobinAssignor } from './assignment/round-robin-assignor.ts';
import { StickyAssignor } from './assignment/sticky-assignor.ts';
import { GroupCoordinator } from './groups/group-coordinator.ts';
import { OffsetStore } from './groups/offset-store.ts';
import type { BrokerConfig } from './config.ts';
import { BrokerError } from './errors.ts';
import { ConnectionBudget } from './net/connection-budget.ts';
import { ListenerRegistry } from './net/listener-registry.ts';
import { openFileLimit } from './net/open-file-limit.ts';
import { TlsCredentials } from './net/tls-credentials.ts';
import { AdminEndpoints } from './admin/admin-endpoints.ts';
import { contributeCoreMetrics } from './metrics/core-metrics.ts';
import { Metrics } from './metrics/metrics.ts';
import { definePlugin, type BrokerPlugin } from './plugin.ts';
import { SingleNodeReplicator } from './replication/single-node-replicator.ts';
import { ClusterReplicator } from './replication/cluster-replicator.ts';
import { ReplicaManager } from './replication/replica-manager.ts';
import { TxnMarkerChannel } from './replication/txn-marker-channel.ts';
import type { Cluster } from './cluster/cluster.ts';
import { CoordinatedCluster } from './cluster/coordinated-cluster.ts';
import { SingleNodeCluster } from './cluster/single-node-cluster.ts';
import type { StorageEngine } from './storage/partition-log.ts';
import { DiskMonitor } from './storage/disk-monitor.ts';
import { SegmentedStorageEngine } from './storage/segmented-storage-engine.ts';
import { TOKENS } from './tokens.ts';
import { TopicRegistry } from './topics/topic-registry.ts';
import { Security } from './security/security.ts';

/** Roles the core binds unless a plugin replaces them. */
export const CORE_DEFAULT_ROLES: readonly symbol[] = [TOKENS.StorageEngine, TOKENS.Replicator];

/**
 * The core's own services as a plugin: storage engine, replicator, topics, groups, assignors, listeners.
 * `clustered` (a plugin provides a coordination backend) turns on cluster mode: the coordinated cluster,
 * the cluster replicator and the replica manager instead of the single node's.
 */
export function corePlugin(replaced: ReadonlySet<symbol>, clustered: boolean): BrokerPlugin {
  const ownsEngine = !replaced.has(TOKENS.StorageEngine);
  let removeMetrics: (() => void) | undefined;
  return definePlugin({
    name: 'core',
    provides: [
      TOKENS.Cluster,
      TOKENS.TopicRegistry,
      TOKENS.ListenerRegistry,
      TOKENS.ConnectionBudget,
      TOKENS.Tls,
      TOKENS.AssignorRegistry,
      TOKENS.GroupCoordinator,
      TOKENS.OffsetStore,
      TOKENS.DiskMonitor,
      TOKENS.Metrics,
      TOKENS.AdminEndpoints,
      TOKENS.Security,
      ...CORE_DEFAULT_ROLES.filter((role) => !replaced.has(role)),
    ],
    requires: [ownsEngine ? TOKENS.SegmentStore : TOKENS.StorageEngine, ...(clustered ? [TOKENS.Coordination] : [])],
    module: ({ config, logger }) =>
      new ContainerModule(({ bind }) => {
        if (ownsEngine) bind<StorageEngine>(TOKENS.StorageEngine).to(SegmentedStorageEngine).inSingletonScope();
        if (!replaced.has(TOKENS.Replicator)) bind(TOKENS.Replicator).to(clustered ? ClusterReplicator : SingleNodeReplicator).inSingletonScope();
        bind<Cluster>(TOKENS.Cluster).to(clustered ? CoordinatedCluster : SingleNodeCluster).inSingletonScope();
        if (clustered) bind(TOKENS.ReplicaManager).to(ReplicaManager).inSingletonScope();
        bind(TOKENS.TxnMarkers).to(TxnMarkerChannel).inSingletonScope();
        bind(TOKENS.TopicRegistry).to(TopicRegistry).inSingletonScope();
        bind(TOKENS.ListenerRegistry).to(ListenerRegistry).inSingletonScope();
        bind(TOKENS.ConnectionBudget).toConstantValue(new ConnectionBudget(config.maxConnections, openFileLimit()));
        bind(TOKENS.Tls).toConstantValue(new TlsCredentials(config.tls, logger.child({ component: 'tls' })));
        for (const assignor of [RangeAssignor, RoundRobinAssignor, StickyAssignor]) bind<Assignor>(TOKENS.Assignor).to(assignor).inSingletonScope();
        bind(TOKENS.AssignorRegistry).to(AssignorRegistry).inSingletonScope();
        bind(TOKENS.OffsetStore).to(OffsetStore).inSingletonScope();
        bind(TOKENS.GroupCoordinator).to(GroupCoordinator).inSingletonScope();
        bind(TOKENS.DiskMonitor).to(DiskMonitor).inSingletonScope();
        bind(TOKENS.Metrics).to(Metrics).inSingletonScope();
        bind(TOKENS.AdminEndpoints).to(AdminEndpoints).inSingletonScope();
        bind(TOKENS.Security).to(Security).inSingletonScope();
      }),
    async start({ container, logger }) {
      const budget = container.get<ConnectionBudget>(TOKENS.ConnectionBudget);
      const details = { maxConnections: budget.limit, openFiles: budget.openFiles?.soft };
      if (budget.exceedsOpenFiles) logger.warn(details, 'max-connections leaves too few file descriptors for files: accepts and opens may fail with EMFILE under load');
      else logger.info(details, 'connection limit');
      container.get<TlsCredentials>(TOKENS.Tls).load();
      const engine = container.get<StorageEngine>(TOKENS.StorageEngine);
      // Measured before anything opens, so a broker started on a full disk starts read-only.
      await container.get<DiskMonitor>(TOKENS.DiskMonitor).start(engine);
      await engine.open();
      const cluster = clustered ? container.get<CoordinatedCluster>(TOKENS.Cluster) : undefined;
      try {
        await cluster?.start();
      } catch (err) {
        await engine.close().catch(() => undefined);
        throw new BrokerError('BROKER_STATE', `could not join the cluster: ${(err as Error).message}`, { cause: err });
      }
      try {
        await container.get<TopicRegistry>(TOKENS.TopicRegistry).open();
        await container.get<OffsetStore>(TOKENS.OffsetStore).open();
        await container.get<Security>(TOKENS.Security).open();
        if (clustered) await container.get<ReplicaManager>(TOKENS.ReplicaManager).start();
      } catch (err) {
        await cluster?.stop().catch(() => undefined);
        await engine.close().catch(() => undefined);
        throw new BrokerError('STORAGE_IO', 'core metadata could not be opened', { cause: err });
      }
      container.get<AssignorRegistry>(TOKENS.AssignorRegistry).get(container.get<BrokerConfig>(TOKENS.Config).groups.assignor);
      container.get<GroupCoordinator>(TOKENS.GroupCoordinator).start();
      removeMetrics = contributeCoreMetrics({
        metrics: container.get<Metrics>(TOKENS.Metrics),
        config: container.get<BrokerConfig>(TOKENS.Config),
        topics: container.get<TopicRegistry>(TOKENS.TopicRegistry),
        disk: container.get<DiskMonitor>(TOKENS.DiskMonitor),
        cluster: container.get<Cluster>(TOKENS.Cluster),
      });
    },
    async beforeStop({ container }) {
      if (clustered) await container.get<ReplicaManager>(TOKENS.ReplicaManager).handOverLeaderships();
    },
    async stop({ container }) {
      removeMetrics?.();
      removeMetrics = undefined;
      container.get<DiskMonitor>(TOKENS.DiskMonitor).stop();
      container.get<GroupCoordinator>(TOKENS.GroupCoordinator).stop();
      await container.get<Security>(TOKENS.Security).close();
      if (clustered) {
        await container.get<ReplicaManager>(TOKENS.ReplicaManager).stop();
        await container.get<CoordinatedCluster>(TOKENS.Cluster).stop();
      }
      await container.get<TopicRegistry>(TOKENS.TopicRegistry).close();
      await container.get<StorageEngine>(TOKENS.StorageEngine).close();
    },
  });
}
