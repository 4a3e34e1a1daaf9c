import type { Cluster } from '../cluster/cluster.ts';
import type { BrokerConfig } from '../config.ts';
import type { DiskMonitor } from '../storage/disk-monitor.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import type { TopicRegistry } from '../topics/topic-registry.ts';
import { WHARF } from './families.ts';
import { LabelCache } from './label-set.ts';
import { WHARF_VERSION, type Metrics } from './metrics.ts';

export interface CoreMetricSources {
  metrics: Metrics;
  config: BrokerConfig;
  topics: TopicRegistry;
  disk: DiskMonitor;
  cluster: Cluster;
}

/**
 * The core's families, computed at scrape time from the topic registry, the logs, the disk monitor and
 * the cluster view: offsets and storage per partition, disk, cluster, build. Returns the remover.
 */
export function contributeCoreMetrics({ metrics, config, topics, disk, cluster }: CoreMetricSources): () => void {
  const partitionLabels = new LabelCache((log: PartitionLog) => ({ topic: log.topic, partition: log.partition }));
  const removers = [
    metrics.family(WHARF.highWatermark).contribute((emit) => {
      for (const topic of topics.list()) {
        for (let p = 0; p < topic.partitions; p++) {
          const log = topics.log(topic.name, p);
          if (log) emit(log.highWatermark, partitionLabels.of(log));
        }
      }
    }),
    metrics.family(WHARF.logStartOffset).contribute((emit) => {
      for (const topic of topics.list()) {
        for (let p = 0; p < topic.partitions; p++) {
          const log = topics.log(topic.name, p);
          if (log) emit(log.logStartOffset, partitionLabels.of(log));
        }
      }
    }),
    // Every log the topic registry holds, protocols' internal queue logs included: storage is storage.
    metrics.family(WHARF.storageBytes).contribute((emit) => {
      for (const topic of topics.list({ includeInternal: true })) {
        for (let p = 0; p < topic.partitions; p++) {
          const log = topics.log(topic.name, p);
          if (log) emit(log.size, partitionLabels.of(log));
        }
      }
    }),
    metrics.family(WHARF.storageSegments).contribute((emit) => {
      for (const topic of topics.list({ includeInternal: true })) {
        for (let p = 0; p < topic.partitions; p++) {
          const log = topics.log(topic.name, p);
          if (log?.segmentCount !== undefined) emit(log.segmentCount, partitionLabels.of(log));
        }
      }
    }),
    metrics.family(WHARF.diskFree).contribute((emit) => {
      if (disk.freeBytes !== undefined) emit(disk.freeBytes);
    }),
    metrics.family(WHARF.diskFreeLimit).contribute((emit) => emit(config.diskFreeLimit)),
    metrics.family(WHARF.readOnly).contribute((emit) => emit(disk.readOnly ? 1 : 0)),
    metrics.family(WHARF.build).contribute((emit) => emit(1, { version: WHARF_VERSION, node_id: config.nodeId, nodejs_version: process.version })),
    metrics.family(WHARF.clusterMembers).contribute((emit) => emit(cluster.members().length)),
    metrics.family(WHARF.underReplicated).contribute((emit) => {
      if (!cluster.clustered) return emit(0);
      let count = 0;
      for (const topic of topics.list({ includeInternal: true })) {
        for (let p = 0; p < topic.partitions; p++) {
          const state = cluster.partitionState(topic.name, p);
          if (state && state.leader === cluster.nodeId && state.isr.length < state.replicas.length) count++;
        }
      }
      emit(count);
    }),
  ];
  return () => {
    for (const remove of removers) remove();
  };
}
