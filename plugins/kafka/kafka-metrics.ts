import { BlockScratch, LabelCache, LabelSet, WHARF, type GroupCoordinator, type Metrics, type OffsetStore, type StoredOffset, type TcpListener, type TopicRegistry } from '../../core/index.ts';
import type { KafkaTraffic, TopicTraffic } from './kafka-traffic.ts';

export interface KafkaMetricSources {
  metrics: Metrics;
  traffic: KafkaTraffic;
  /** Its listeners (plaintext and TLS): connections are counted over all of them. */
  listeners: readonly TcpListener[];
  topics: TopicRegistry;
  offsets: OffsetStore;
  coordinator: GroupCoordinator;
}

const KAFKA = new LabelSet({ protocol: 'kafka' });

/**
 * The Kafka plugin's families: per-topic traffic, connections, and per group and partition the lag of
 * committed offsets behind the high watermark (the groups this broker coordinates). Read at scrape
 * time; returns the remover.
 */
export function contributeKafkaMetrics({ metrics, traffic, listeners, topics, offsets, coordinator }: KafkaMetricSources): () => void {
  const topicLabels = new LabelCache((_counts: TopicTraffic, topic: string) => ({ protocol: 'kafka', topic }));
  const lagLabels = new LabelCache((committed: StoredOffset) => ({ protocol: 'kafka', group: committed.group, topic: committed.topic, partition: committed.partition }));
  const lag = new BlockScratch<string>();
  const perTopic = (spec: (typeof WHARF)[keyof typeof WHARF], read: (t: TopicTraffic) => number) =>
    metrics.family(spec).contribute((emit) => {
      for (const [topic, counts] of traffic.entries()) emit(read(counts), topicLabels.of(counts, topic));
    });
  const removers = [
    perTopic(WHARF.messagesIn, (t) => t.messagesIn),
    perTopic(WHARF.bytesIn, (t) => t.bytesIn),
    perTopic(WHARF.messagesOut, (t) => t.messagesOut),
    perTopic(WHARF.bytesOut, (t) => t.bytesOut),
    metrics.family(WHARF.connections).contribute((emit) => emit(sum(listeners, (l) => l.connectionCount), KAFKA)),
    metrics.family(WHARF.connectionsOpened).contribute((emit) => emit(sum(listeners, (l) => l.acceptedCount), KAFKA)),
    metrics.family(WHARF.groupLag).contribute((emit) => {
      // A block per group: the lines of a group whose lags are unchanged are copied.
      for (const group of offsets.groups()) {
        let count = 0;
        for (const committed of offsets.committed(group)) {
          lag.ensure(count);
          const log = topics.log(committed.topic, committed.partition);
          lag.values[count] = log ? Math.max(0, log.highWatermark - committed.offset) : NaN;
          lag.labels[count++] = lagLabels.of(committed);
        }
        emit.block(lag.block(group), lag.values, lag.labels, count);
      }
      lag.sweep();
    }),
    metrics.family(WHARF.groupMembers).contribute((emit) => {
      for (const listing of coordinator.list()) emit(coordinator.memberCount(listing.groupId), { protocol: 'kafka', group: listing.groupId });
    }),
  ];
  return () => {
    for (const remove of removers) remove();
  };
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}
