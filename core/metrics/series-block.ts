import type { LabelSet } from './label-set.ts';

/**
 * A group of series of one family that are read together (a topic's partitions) and kept from one scrape
 * to the next: when every value and label set is the one of the last scrape, its lines are one copy of
 * the bytes written then. Idle topics, most of a large broker's, then cost a read of their values only.
 */
export class SeriesBlock {
  private values = new Float64Array(0);
  private labels: readonly LabelSet[] = [];
  private count = -1;
  private lines: Buffer | undefined;

  /** True when these `count` values (NaN: no series) and label sets are the ones last written. */
  unchanged(values: Float64Array, labels: readonly LabelSet[], count: number): boolean {
    if (this.lines === undefined || count !== this.count) return false;
    const kept = this.values;
    for (let i = 0; i < count; i++) {
      const v = values[i]!;
      if (v !== kept[i] && !(v !== v && kept[i] !== kept[i])) return false;
      if (labels[i] !== this.labels[i]) return false;
    }
    return true;
  }

  /** The bytes last written for the block. */
  get written(): Buffer {
    return this.lines!;
  }

  /** Keeps what was just written for these values. */
  keep(values: Float64Array, labels: readonly LabelSet[], count: number, lines: Uint8Array): void {
    if (this.values.length < count) this.values = new Float64Array(count);
    this.values.set(values.subarray(0, count));
    this.labels = labels.slice(0, count);
    this.count = count;
    this.lines = Buffer.from(lines);
  }
}

/** A contributor's reused arrays for reading blocks, and its blocks by key. */
export class BlockScratch<K> {
  values = new Float64Array(64);
  labels: LabelSet[] = [];
  private readonly blocks = new Map<K, SeriesBlock>();
  private readonly asked = new Set<K>();

  /** Room for one more series after `count`. */
  ensure(count: number): void {
    if (count < this.values.length) return;
    const grown = new Float64Array(this.values.length * 2);
    grown.set(this.values);
    this.values = grown;
  }

  block(key: K): SeriesBlock {
    this.asked.add(key);
    let block = this.blocks.get(key);
    if (!block) this.blocks.set(key, (block = new SeriesBlock()));
    return block;
  }

  /** Forgets the blocks of keys not asked for since the last sweep (a deleted group, vhost). */
  sweep(): void {
    for (const key of this.blocks.keys()) if (!this.asked.has(key)) this.blocks.delete(key);
    this.asked.clear();
  }
}
