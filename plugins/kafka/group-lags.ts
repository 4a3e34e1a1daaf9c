import { BlockScratch, ChangeMark, LabelCache, SeriesBlock, type Emit, type OffsetStore, type StoredOffset, type TopicRegistry } from '../../core/index.ts';

/** One group's committed offsets as last read, by topic: each topic's lags are one block. */
interface GroupLag {
  readAt: number;
  seenIn: number;
  readonly byTopic: Map<string, TopicLag>;
}

interface TopicLag {
  readonly offsets: Readonly<StoredOffset>[];
  readonly block: SeriesBlock;
}

/**
 * Per group and partition, the committed offset's lag behind the high watermark. A group's lags on one
 * topic are a block, read again only when the group committed (its offsets are regrouped then) or the
 * topic's logs changed: an idle group costs a look at two marks per topic.
 */
export class GroupLags {
  private readonly labels = new LabelCache((committed: StoredOffset) => ({ protocol: 'kafka', group: committed.group, topic: committed.topic, partition: committed.partition }));
  private readonly scratch = new BlockScratch();
  private readonly groups = new Map<string, GroupLag>();
  private scrapes = 0;

  constructor(
    private readonly topics: TopicRegistry,
    private readonly offsets: OffsetStore,
  ) {}

  emit(emit: Emit): void {
    const scrape = ++this.scrapes;
    const { scratch } = this;
    for (const group of this.offsets.groups()) {
      const committedMark = this.offsets.changesOf(group);
      let lag = this.groups.get(group);
      if (!lag) this.groups.set(group, (lag = { readAt: -1, seenIn: 0, byTopic: new Map() }));
      lag.seenIn = scrape;
      if (committedMark === undefined || committedMark.changedAt > lag.readAt) this.regroup(group, lag);
      for (const [topic, { offsets, block }] of lag.byTopic) {
        if (emit.cached(block, committedMark, this.topics.changesOf(topic))) continue;
        let count = 0;
        for (const committed of offsets) {
          scratch.ensure(count);
          const log = this.topics.log(topic, committed.partition);
          scratch.values[count] = log ? Math.max(0, log.highWatermark - committed.offset) : NaN;
          scratch.labels[count++] = this.labels.of(committed);
        }
        emit.block(block, scratch.values, scratch.labels, count);
      }
    }
    for (const [group, lag] of this.groups) if (lag.seenIn !== scrape) this.groups.delete(group);
  }

  /** Reads the group's offsets again (a commit replaces them), by topic; a topic's block is kept while it has offsets. */
  private regroup(group: string, lag: GroupLag): void {
    for (const { offsets } of lag.byTopic.values()) offsets.length = 0;
    for (const committed of this.offsets.committed(group)) {
      let byTopic = lag.byTopic.get(committed.topic);
      if (!byTopic) lag.byTopic.set(committed.topic, (byTopic = { offsets: [], block: new SeriesBlock() }));
      byTopic.offsets.push(committed);
    }
    for (const [topic, { offsets }] of lag.byTopic) if (offsets.length === 0) lag.byTopic.delete(topic);
    lag.readAt = ChangeMark.now();
  }
}
