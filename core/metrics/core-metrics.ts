import type { Cluster } from '../cluster/cluster.ts';
import type { BrokerConfig } from '../config.ts';
import type { DiskMonitor } from '../storage/disk-monitor.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import type { TopicRegistry } from '../topics/topic-registry.ts';
import { WHARF } from './families.ts';
import { LabelSet } from './label-set.ts';
import { SeriesBlock } from './series-block.ts';
import type { FamilySpec } from './scrape-family.ts';
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
  const partitionLabels = new PartitionLabels();
  /**
   * A family with a series per partition here of the topics listed (internal ones too with
   * `includeInternal`), each topic's partitions one block, read again only when the topic's logs changed.
   */
  const perPartition = (spec: FamilySpec, includeInternal: boolean, value: (log: PartitionLog) => number | undefined) => {
    const blocks = new WeakMap<readonly unknown[], SeriesBlock>();
    let values = new Float64Array(64);
    return metrics.family(spec).contribute((emit) => {
      for (const topic of topics.list({ includeInternal })) {
        const logs = topics.logsOf(topic.name);
        if (!logs) continue;
        let block = blocks.get(logs);
        if (!block) blocks.set(logs, (block = new SeriesBlock()));
        if (emit.cached(block, topics.changesOf(topic.name))) continue;
        const labels = partitionLabels.of(topic.name, logs);
        const count = topic.partitions;
        if (values.length < count) values = new Float64Array(count);
        for (let p = 0; p < count; p++) {
          const log = logs[p];
          values[p] = (log && value(log)) ?? NaN;
        }
        emit.block(block, values, labels, count);
      }
    });
  };
  const removers = [
    perPartition(WHARF.highWatermark, false, (log) => log.highWatermark),
    perPartition(WHARF.logStartOffset, false, (log) => log.logStartOffset),
    // Every log the topic registry holds, protocols' internal queue logs included: storage is storage.
    perPartition(WHARF.storageBytes, true, (log) => log.size),
    perPartition(WHARF.storageSegments, true, (log) => log.segmentCount),
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

/** The label sets of each topic's partitions, by partition: rendered on first scrape, kept with the topic's array of logs. */
class PartitionLabels {
  private readonly byTopic = new WeakMap<readonly unknown[], LabelSet[]>();

  of(topic: string, logs: readonly unknown[]): readonly LabelSet[] {
    let labels = this.byTopic.get(logs);
    if (!labels) {
      labels = [];
      this.byTopic.set(logs, labels);
    }
    for (let p = labels.length; p < logs.length; p++) labels.push(new LabelSet({ topic, partition: p }));
    return labels;
  }
}
