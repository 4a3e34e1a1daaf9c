import { labelText } from './exposition.ts';
import type { Labels } from './scrape-family.ts';

/**
 * A series' labels rendered once as exposition bytes (`{topic="t",partition="0"}`, escaped): emitted
 * with a value, its line is a copy of these bytes, not a new string each scrape.
 */
export class LabelSet {
  readonly bytes: Buffer;

  constructor(labels: Labels) {
    this.bytes = Buffer.from(labelText(labels));
  }
}

/**
 * The label sets of a contributor's series, one per object of the state it reads (a partition's log,
 * a queue, a committed offset): rendered the first time the object is scraped and forgotten with it.
 * The labels must follow from the object alone (`context` only helps to name them).
 */
export class LabelCache<K extends object, C = undefined> {
  private readonly sets = new WeakMap<K, LabelSet>();

  constructor(private readonly labels: (key: K, context: C) => Labels) {}

  of(key: K, context: C): LabelSet;
  of(this: LabelCache<K, undefined>, key: K): LabelSet;
  of(key: K, context?: C): LabelSet {
    let set = this.sets.get(key);
    if (set === undefined) {
      set = new LabelSet(this.labels(key, context as C));
      this.sets.set(key, set);
    }
    return set;
  }
}
