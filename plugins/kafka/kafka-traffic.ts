import { BatchField, LOG_OVERHEAD } from '../../core/index.ts';

/** Messages and bytes a topic took in from producers and handed out to fetchers. */
export interface TopicTraffic {
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
}

/**
 * Per-topic traffic counters: one map lookup and integer additions per partition and request (never
 * per record); the metrics registry reads them when scraped.
 */
export class KafkaTraffic {
  private readonly topics = new Map<string, TopicTraffic>();

  topic(name: string): TopicTraffic {
    let traffic = this.topics.get(name);
    if (!traffic) {
      traffic = { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 };
      this.topics.set(name, traffic);
    }
    return traffic;
  }

  entries(): IterableIterator<[string, TopicTraffic]> {
    return this.topics.entries();
  }

  /** Forgets a deleted topic. */
  delete(name: string): void {
    this.topics.delete(name);
  }
}

/** Records in whole stored batches, read from their headers (one read per batch, none per record). */
export function recordsIn(batches: Buffer): number {
  let count = 0;
  for (let pos = 0; pos + BatchField.records <= batches.length; ) {
    const length = batches.readInt32BE(pos + BatchField.batchLength);
    if (length <= 0) break;
    count += batches.readInt32BE(pos + BatchField.recordCount);
    pos += LOG_OVERHEAD + length;
  }
  return count;
}
