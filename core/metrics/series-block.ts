import { ChangeMark } from './change-mark.ts';
import type { LabelSet } from './label-set.ts';

/**
 * A group of series of one family that are read together (a topic's partitions) and kept from one scrape
 * to the next. A contributor whose state touches `ChangeMark`s asks `isCurrent` first: while none of the
 * marks moved since the block was rendered, its kept lines are sent again without reading a value.
 * Otherwise it reads the values; when every value and label set is the one of the last scrape the kept
 * lines are still sent as they are, else the block is rendered anew.
 */
export class SeriesBlock {
  private values = new Float64Array(0);
  private labels: readonly LabelSet[] = [];
  private count = -1;
  private lines: Buffer | undefined;
  private renderedAt = -1;

  /** True when the lines kept are still those of the state behind `marks`: none was touched since they were rendered (a missing mark never is). */
  isCurrent(...marks: ReadonlyArray<ChangeMark | undefined>): boolean {
    if (this.lines === undefined) return false;
    for (const mark of marks) if (mark === undefined || mark.changedAt > this.renderedAt) return false;
    return true;
  }

  /** True when these `count` values (NaN: no series) and label sets are the ones last written; the block is then current as of now. */
  unchanged(values: Float64Array, labels: readonly LabelSet[], count: number): boolean {
    if (this.lines === undefined || count !== this.count) return false;
    const kept = this.values;
    for (let i = 0; i < count; i++) {
      const v = values[i]!;
      if (v !== kept[i] && !(v !== v && kept[i] !== kept[i])) return false;
      if (labels[i] !== this.labels[i]) return false;
    }
    this.renderedAt = ChangeMark.now();
    return true;
  }

  /** The bytes last written for the block: a buffer of its own, never changed (a new one replaces it). */
  get written(): Buffer {
    return this.lines!;
  }

  /** Keeps what was just written for these values, as of now. */
  keep(values: Float64Array, labels: readonly LabelSet[], count: number, lines: Buffer): void {
    if (this.values.length < count) this.values = new Float64Array(count);
    this.values.set(values.subarray(0, count));
    this.labels = labels.slice(0, count);
    this.count = count;
    this.lines = lines;
    this.renderedAt = ChangeMark.now();
  }
}

/** A contributor's reused arrays for reading a block's values and label sets. */
export class BlockScratch {
  values = new Float64Array(64);
  labels: LabelSet[] = [];

  /** Room for one more series after `count`. */
  ensure(count: number): void {
    if (count < this.values.length) return;
    const grown = new Float64Array(Math.max(this.values.length * 2, count + 1));
    grown.set(this.values);
    this.values = grown;
  }
}
