import type { Cluster } from '../cluster/cluster.ts';
import type { BrokerConfig } from '../config.ts';
import type { DiskMonitor } from '../storage/disk-monitor.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import type { TopicDescriptor, TopicRegistry } from '../topics/topic-registry.ts';
import type { ChangeMark } from './change-mark.ts';
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
  const topicLogs = new TopicLogs(topics);
  let families = 0;
  /**
   * A family with a series per partition here of the topics listed (internal ones too with
   * `includeInternal`), each topic's partitions one block, read again only when the topic's logs changed.
   */
  const perPartition = (spec: FamilySpec, includeInternal: boolean, value: (log: PartitionLog) => number | undefined) => {
    const family = families++;
    let values = new Float64Array(64);
    return metrics.family(spec).contribute((emit) => {
      for (const topic of topicLogs.list(emit.scrape)) {
        if (topic.descriptor.internal && !includeInternal) continue;
        const block = (topic.blocks[family] ??= new SeriesBlock());
        if (emit.cached(block, topic.changes)) continue;
        const { logs } = topic;
        const count = topic.descriptor.partitions;
        if (values.length < count) values = new Float64Array(count);
        for (let p = 0; p < count; p++) {
          const log = logs[p];
          values[p] = (log && value(log)) ?? NaN;
        }
        emit.block(block, values, topic.labels, count);
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

/** A topic with logs here as the per-partition families read it. */
interface TopicLogsEntry {
  descriptor: TopicDescriptor;
  changes: ChangeMark | undefined;
  readonly logs: readonly (PartitionLog | undefined)[];
  /** By partition, rendered once. */
  readonly labels: LabelSet[];
  /** By family. */
  readonly blocks: SeriesBlock[];
}

/**
 * The topics with logs here (internal ones included), listed once per scrape for the four per-partition
 * families. A topic's entry, its label sets and blocks live as long as its array of logs: a topic deleted
 * and created again, or given partitions, starts anew.
 */
class TopicLogs {
  private scrape = Number.NaN;
  private readonly listed: TopicLogsEntry[] = [];
  private readonly byLogs = new WeakMap<readonly unknown[], TopicLogsEntry>();

  constructor(private readonly topics: TopicRegistry) {}

  list(scrape: number): readonly TopicLogsEntry[] {
    if (scrape === this.scrape) return this.listed;
    this.scrape = scrape;
    this.listed.length = 0;
    for (const descriptor of this.topics.list({ includeInternal: true })) {
      const logs = this.topics.logsOf(descriptor.name);
      if (!logs) continue;
      let entry = this.byLogs.get(logs);
      if (!entry) this.byLogs.set(logs, (entry = { descriptor, changes: undefined, logs, labels: [], blocks: [] }));
      entry.descriptor = descriptor;
      entry.changes = this.topics.changesOf(descriptor.name);
      for (let p = entry.labels.length; p < logs.length; p++) entry.labels.push(new LabelSet({ topic: descriptor.name, partition: p }));
      this.listed.push(entry);
    }
    return this.listed;
  }
}
