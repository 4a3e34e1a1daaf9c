import { pack, unpack } from 'msgpackr';

export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

export interface EpochEndOffset {
  /** The largest epoch at or below the one asked for, or -1 if none. */
  readonly epoch: number;
  /** Where that epoch ends here: the next larger epoch's start offset, or the log end offset. -1 if none. */
  readonly endOffset: number;
}

/**
 * A partition's leader epochs and the offset each began at (Kafka's leader-epoch-checkpoint), the
 * basis of truncation after a leader change (KIP-101, KIP-279): a replica asks the leader where its
 * last epoch ends and cuts its log there, never trusting the high watermark alone.
 */
export class LeaderEpochCache {
  private entries: EpochEntry[];

  constructor(entries: readonly EpochEntry[] = []) {
    this.entries = [...entries];
  }

  static decode(bytes: Buffer | undefined): LeaderEpochCache {
    if (bytes === undefined) return new LeaderEpochCache();
    try {
      const raw = unpack(bytes) as unknown;
      if (Array.isArray(raw) && raw.every((e) => Array.isArray(e) && e.length === 2 && Number.isSafeInteger(e[0]) && Number.isSafeInteger(e[1]))) {
        return new LeaderEpochCache((raw as Array<[number, number]>).map(([epoch, startOffset]) => ({ epoch, startOffset })));
      }
    } catch {
      // an unreadable checkpoint is an empty cache: the replica truncates more than needed, never less
    }
    return new LeaderEpochCache();
  }

  encode(): Buffer {
    return pack(this.entries.map((e) => [e.epoch, e.startOffset]));
  }

  get latestEpoch(): number {
    return this.entries[this.entries.length - 1]?.epoch ?? -1;
  }

  get all(): readonly EpochEntry[] {
    return this.entries;
  }

  /** Records that `epoch` starts at `startOffset`; returns whether anything changed (then persist). */
  assign(epoch: number, startOffset: number): boolean {
    const latest = this.entries[this.entries.length - 1];
    if (latest && epoch <= latest.epoch) return false;
    if (latest && startOffset < latest.startOffset) {
      this.entries = this.entries.filter((e) => e.startOffset < startOffset);
    }
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /** Where `epoch` ends in a log whose end offset is `logEndOffset`. */
  endOffsetFor(epoch: number, logEndOffset: number): EpochEndOffset {
    let found = -1;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i]!.epoch <= epoch) {
        found = i;
        break;
      }
    }
    if (found < 0) return { epoch: -1, endOffset: -1 };
    const next = this.entries[found + 1];
    return { epoch: this.entries[found]!.epoch, endOffset: next ? next.startOffset : logEndOffset };
  }

  /**
   * What Kafka's OffsetForLeaderEpoch answers (LeaderEpochFileCache.endOffsetFor): the latest epoch ends at
   * the log end; an older one where the next higher epoch starts, named by the highest epoch at or below
   * it (or by itself when it predates them all); an epoch above the latest, or none, is undefined (-1, -1).
   */
  requestedEndOffset(epoch: number, logEndOffset: number): EpochEndOffset {
    const entries = this.entries;
    if (epoch < 0 || entries.length === 0) return { epoch: -1, endOffset: -1 };
    if (entries[entries.length - 1]!.epoch === epoch) return { epoch, endOffset: logEndOffset };
    const higher = entries.findIndex((e) => e.epoch > epoch);
    if (higher < 0) return { epoch: -1, endOffset: -1 };
    return { epoch: higher === 0 ? epoch : entries[higher - 1]!.epoch, endOffset: entries[higher]!.startOffset };
  }

  /** The offset the current epoch started at, or 0. */
  get latestStartOffset(): number {
    return this.entries[this.entries.length - 1]?.startOffset ?? 0;
  }

  /** Forgets epochs that start at or after `offset` (the log was cut there). */
  truncateFromEnd(offset: number): boolean {
    const kept = this.entries.filter((e) => e.startOffset < offset);
    const changed = kept.length !== this.entries.length;
    this.entries = kept;
    return changed;
  }

  /** The log now starts at `offset`: epochs wholly before it go, the one spanning it starts there. */
  truncateFromStart(offset: number): boolean {
    let firstKept = 0;
    while (firstKept + 1 < this.entries.length && this.entries[firstKept + 1]!.startOffset <= offset) firstKept++;
    const head = this.entries[firstKept];
    if (firstKept === 0 && (!head || head.startOffset >= offset)) return false;
    this.entries = [{ epoch: head!.epoch, startOffset: Math.max(head!.startOffset, offset) }, ...this.entries.slice(firstKept + 1)];
    return true;
  }
}
