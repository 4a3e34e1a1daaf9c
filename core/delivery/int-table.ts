const EMPTY = -1;
const MIN_CAPACITY = 16;

/**
 * A hash table from non-negative safe integers (offsets, delivery tags) to values: open addressing with
 * linear probing and backward-shift deletion, so it never rehashes except to grow.
 *
 * Why not Map: a Map under steady insert/delete churn rehashes into a fresh table every few operations
 * and links each obsolete table to its successor. Obsolete tables that reached old space keep their
 * successors, and the entries those still hold, alive through scavenges: every in-flight message gets
 * promoted and waits for a full GC. Measured on the AMQP delivery path at 10k msg/s, that made scavenges
 * of ~3 ms several times a second.
 */
export class IntTable<V> {
  private slots: Float64Array;
  private values: Array<V | undefined>;
  private mask: number;
  private shift: number;
  private count = 0;

  constructor(capacity = MIN_CAPACITY) {
    const size = 2 ** Math.max(Math.ceil(Math.log2(capacity)), Math.log2(MIN_CAPACITY));
    this.slots = new Float64Array(size).fill(EMPTY);
    this.values = new Array<V | undefined>(size).fill(undefined);
    this.mask = size - 1;
    this.shift = 32 - Math.log2(size);
  }

  get size(): number {
    return this.count;
  }

  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  get(key: number): V | undefined {
    const at = this.find(key);
    return at < 0 ? undefined : this.values[at];
  }

  set(key: number, value: V): void {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    let at = this.home(key);
    for (;;) {
      const slot = this.slots[at]!;
      if (slot === EMPTY) {
        this.slots[at] = key;
        this.values[at] = value;
        this.count++;
        return;
      }
      if (slot === key) {
        this.values[at] = value;
        return;
      }
      at = (at + 1) & this.mask;
    }
  }

  delete(key: number): boolean {
    let hole = this.find(key);
    if (hole < 0) return false;
    this.count--;
    // Backward shift: pull later entries of the probe run into the hole while that keeps them reachable.
    for (let at = (hole + 1) & this.mask; this.slots[at] !== EMPTY; at = (at + 1) & this.mask) {
      const home = this.home(this.slots[at]!);
      if (((at - home) & this.mask) >= ((at - hole) & this.mask)) {
        this.slots[hole] = this.slots[at]!;
        this.values[hole] = this.values[at];
        hole = at;
      }
    }
    this.slots[hole] = EMPTY;
    this.values[hole] = undefined;
    return true;
  }

  clear(): void {
    this.slots.fill(EMPTY);
    this.values.fill(undefined);
    this.count = 0;
  }

  /** Calls `visit` for every entry, in no particular order; the table must not change meanwhile. */
  forEach(visit: (value: V, key: number) => void): void {
    for (let at = 0; at < this.slots.length; at++) if (this.slots[at] !== EMPTY) visit(this.values[at]!, this.slots[at]!);
  }

  /** The keys, ascending. */
  sortedKeys(): number[] {
    const keys: number[] = [];
    for (let at = 0; at < this.slots.length; at++) if (this.slots[at] !== EMPTY) keys.push(this.slots[at]!);
    return keys.sort((a, b) => a - b);
  }

  valueList(): V[] {
    const values: V[] = [];
    this.forEach((value) => values.push(value));
    return values;
  }

  /** Fibonacci hashing of the key's low and high 32 bits: sequential keys spread over the table. */
  private home(key: number): number {
    const mixed = (key >>> 0) ^ Math.floor(key / 0x1_0000_0000);
    return Math.imul(mixed, 0x9e3779b1) >>> this.shift;
  }

  private find(key: number): number {
    for (let at = this.home(key); ; at = (at + 1) & this.mask) {
      const slot = this.slots[at]!;
      if (slot === key) return at;
      if (slot === EMPTY) return -1;
    }
  }

  private grow(): void {
    const slots = this.slots;
    const values = this.values;
    const size = slots.length * 2;
    this.slots = new Float64Array(size).fill(EMPTY);
    this.values = new Array<V | undefined>(size).fill(undefined);
    this.mask = size - 1;
    this.shift = 32 - Math.log2(size);
    this.count = 0;
    for (let at = 0; at < slots.length; at++) if (slots[at] !== EMPTY) this.set(slots[at]!, values[at]!);
  }
}
