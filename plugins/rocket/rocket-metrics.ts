import { LabelCache, LabelSet, WHARF, type AckQueue, type Metrics } from '../../core/index.ts';
import type { ClientRegistry } from './clients.ts';
import type { ConsumerGroups } from './model/consumer-groups.ts';
import type { GroupQueues } from './model/group-queues.ts';
import type { GroupOut, RocketTraffic, TopicIn } from './rocket-traffic.ts';

const ROCKETMQ = new LabelSet({ protocol: 'rocketmq' });

/**
 * The RocketMQ plugin's families: messages in per topic, out per group and topic, live clients, and
 * per group, topic and message queue the messages not yet consumed (lag) and those held invisible.
 * Read at scrape time; returns the remover.
 */
export function contributeRocketMetrics(metrics: Metrics, traffic: RocketTraffic, groups: ConsumerGroups, clients: ClientRegistry): () => void {
  const topicLabels = new LabelCache((_counts: TopicIn, topic: string) => ({ protocol: 'rocketmq', topic }));
  const queueLabels = new LabelCache((queue: AckQueue, owner: GroupQueues) => ({ protocol: 'rocketmq', group: owner.group, topic: owner.topic.name, partition: owner.queues.indexOf(queue) }));
  const perGroup = (spec: (typeof WHARF)[keyof typeof WHARF], read: (out: GroupOut) => number) =>
    metrics.family(spec).contribute((emit) => {
      for (const [group, byTopic] of traffic.groups) for (const [topic, out] of byTopic) emit(read(out), { protocol: 'rocketmq', group, topic });
    });
  const removers = [
    metrics.family(WHARF.messagesIn).contribute((emit) => {
      for (const [topic, counts] of traffic.topics) emit(counts.messagesIn, topicLabels.of(counts, topic));
    }),
    metrics.family(WHARF.bytesIn).contribute((emit) => {
      for (const [topic, counts] of traffic.topics) emit(counts.bytesIn, topicLabels.of(counts, topic));
    }),
    perGroup(WHARF.messagesOut, (o) => o.messagesOut),
    perGroup(WHARF.bytesOut, (o) => o.bytesOut),
    perGroup(WHARF.redeliveries, (o) => o.redeliveries),
    perGroup(WHARF.acks, (o) => o.acks),
    metrics.family(WHARF.connections).contribute((emit) => {
      let live = 0;
      for (const client of clients.list()) if (clients.alive(client.id)) live++;
      emit(live, ROCKETMQ);
    }),
    metrics.family(WHARF.groupLag).contribute((emit) => {
      for (const queues of groups.active()) {
        for (const queue of queues.queues) emit(queue.readyCount, queueLabels.of(queue, queues));
      }
    }),
    metrics.family(WHARF.groupInflight).contribute((emit) => {
      for (const queues of groups.active()) {
        for (const queue of queues.queues) emit(queue.inFlightCount, queueLabels.of(queue, queues));
      }
    }),
    metrics.family(WHARF.groupMembers).contribute((emit) => {
      const members = new Map<string, number>();
      for (const client of clients.list()) if (client.group !== undefined && clients.alive(client.id)) members.set(client.group, (members.get(client.group) ?? 0) + 1);
      for (const [group, count] of members) emit(count, { protocol: 'rocketmq', group });
    }),
  ];
  return () => {
    for (const remove of removers) remove();
  };
}
