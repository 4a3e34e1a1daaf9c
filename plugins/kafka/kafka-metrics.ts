import { LabelCache, LabelSet, WHARF, type GroupCoordinator, type Metrics, type OffsetStore, type TcpListener, type TopicRegistry } from '../../core/index.ts';
import { GroupLags } from './group-lags.ts';
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
  const lag = new GroupLags(topics, offsets);
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
    metrics.family(WHARF.groupLag).contribute((emit) => lag.emit(emit)),
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
