import { inject, injectable } from 'inversify';
import type { Clock } from '../clock.ts';
import type { StorageEngine } from '../storage/partition-log.ts';
import { TOKENS } from '../tokens.ts';
import { MetadataLog } from '../topics/metadata-log.ts';

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  commitTimestamp: number;
}

export interface OffsetCommit {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch?: number;
  metadata?: string | null;
}

export interface GroupOffset extends CommittedOffset {
  topic: string;
  partition: number;
}

interface StoredOffset extends CommittedOffset {
  group: string;
  topic: string;
  partition: number;
}

const key = (group: string, topic: string, partition: number): string => `${group}\u0000${topic}\u0000${partition}`;

/**
 * Committed offsets per group, topic and partition, kept in the internal compacted log
 * `__wharf_offsets` and rebuilt from it on start.
 */
@injectable()
export class OffsetStore {
  private log: MetadataLog<StoredOffset> | undefined;
  /** group -> (key -> offset), a secondary index over the log's state. */
  private readonly byGroup = new Map<string, Map<string, StoredOffset>>();

  constructor(
    @inject(TOKENS.StorageEngine) private readonly engine: StorageEngine,
    @inject(TOKENS.Clock) private readonly clock: Clock,
  ) {}

  async open(): Promise<void> {
    this.log = await MetadataLog.open<StoredOffset>(this.engine, 'offsets');
    this.byGroup.clear();
    for (const [k, stored] of this.log.entries()) this.index(k, stored);
  }

  /** Stores the commits as one batch; resolves once they are durable. */
  async commit(group: string, commits: readonly OffsetCommit[]): Promise<void> {
    const now = this.clock.now();
    const changes = commits.map((c): [string, StoredOffset] => [
      key(group, c.topic, c.partition),
      { group, topic: c.topic, partition: c.partition, offset: c.offset, leaderEpoch: c.leaderEpoch ?? -1, metadata: c.metadata ?? null, commitTimestamp: now },
    ]);
    for (const [k, stored] of changes) this.index(k, stored);
    await this.store.write(changes);
  }

  fetch(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.byGroup.get(group)?.get(key(group, topic, partition));
  }

  /** Every committed offset of a group. */
  fetchAll(group: string): GroupOffset[] {
    return [...(this.byGroup.get(group)?.values() ?? [])].map(({ group: _group, ...rest }) => rest);
  }

  groups(): string[] {
    return [...this.byGroup.keys()];
  }

  /** The newest commit time of a group, or undefined if it has no offsets. */
  lastCommit(group: string): number | undefined {
    let newest: number | undefined;
    for (const stored of this.byGroup.get(group)?.values() ?? []) newest = Math.max(newest ?? 0, stored.commitTimestamp);
    return newest;
  }

  async deleteGroup(group: string): Promise<void> {
    const keys = [...(this.byGroup.get(group)?.keys() ?? [])];
    this.byGroup.delete(group);
    await this.store.write(keys.map((k) => [k, undefined] as const));
  }

  /** Drops a topic's offsets from every group (the topic was deleted). */
  async deleteTopic(topic: string): Promise<void> {
    const changes: Array<readonly [string, undefined]> = [];
    for (const [group, offsets] of this.byGroup) {
      for (const [k, stored] of offsets) {
        if (stored.topic !== topic) continue;
        offsets.delete(k);
        changes.push([k, undefined]);
      }
      if (offsets.size === 0) this.byGroup.delete(group);
    }
    await this.store.write(changes);
  }

  private index(k: string, stored: StoredOffset): void {
    let offsets = this.byGroup.get(stored.group);
    if (!offsets) this.byGroup.set(stored.group, (offsets = new Map()));
    offsets.set(k, stored);
  }

  private get store(): MetadataLog<StoredOffset> {
    if (!this.log) throw new Error('the offset store is not open');
    return this.log;
  }
}
