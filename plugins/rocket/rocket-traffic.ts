/** What producers sent to a topic. */
export interface TopicIn {
  messagesIn: number;
  bytesIn: number;
}

/** What a consumer group took from a topic. */
export interface GroupOut {
  messagesOut: number;
  bytesOut: number;
  redeliveries: number;
  acks: number;
}

/** RocketMQ traffic counters: a map lookup and integer additions per RPC; read when metrics are scraped. */
export class RocketTraffic {
  readonly topics = new Map<string, TopicIn>();
  /** group -> topic -> counters. */
  readonly groups = new Map<string, Map<string, GroupOut>>();

  topic(name: string): TopicIn {
    let counts = this.topics.get(name);
    if (!counts) {
      counts = { messagesIn: 0, bytesIn: 0 };
      this.topics.set(name, counts);
    }
    return counts;
  }

  group(group: string, topic: string): GroupOut {
    let byTopic = this.groups.get(group);
    if (!byTopic) {
      byTopic = new Map();
      this.groups.set(group, byTopic);
    }
    let counts = byTopic.get(topic);
    if (!counts) {
      counts = { messagesOut: 0, bytesOut: 0, redeliveries: 0, acks: 0 };
      byTopic.set(topic, counts);
    }
    return counts;
  }

  /** Forgets a deleted topic. */
  deleteTopic(name: string): void {
    this.topics.delete(name);
    for (const byTopic of this.groups.values()) byTopic.delete(name);
  }
}
