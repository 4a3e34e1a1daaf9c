import type { TopicRegistry } from '../../core/index.ts';

/** Kafka's Uuid.ZERO: no topic id (older versions, unknown topics). */
export const NO_TOPIC_ID = Buffer.alloc(16);

/** A topic's id (a UUID string, kept with the topic by core) as Kafka's 16 bytes. */
export function topicIdBytes(id: string): Buffer {
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}

/**
 * Topic names by id (KIP-516): Fetch v13+ and Metadata v12+ name topics by id. The index follows the
 * registry's created and deleted events, so a re-created topic (a new id) never answers for the old one.
 */
export class TopicIds {
  private readonly names = new Map<string, string>();
  private readonly detach: () => void;

  constructor(private readonly topics: TopicRegistry) {
    for (const topic of topics.list({ includeInternal: true })) this.names.set(topic.id.replaceAll('-', ''), topic.name);
    this.detach = topics.onChange((event) => {
      const key = event.topic.id.replaceAll('-', '');
      if (event.type === 'deleted') this.names.delete(key);
      else this.names.set(key, event.topic.name);
    });
  }

  /** The name of the topic with this id, if it exists now. */
  nameOf(id: Buffer): string | undefined {
    const key = id.toString('hex');
    const name = this.names.get(key);
    return name !== undefined && this.topics.get(name)?.id.replaceAll('-', '') === key ? name : undefined;
  }

  close(): void {
    this.detach();
  }
}
