/** A set of integers kept as sorted, disjoint, non-adjacent half-open ranges [start, end). */
export class RangeSet {
  private starts: number[] = [];
  private ends: number[] = [];
  private total = 0;

  get size(): number {
    return this.total;
  }

  get rangeCount(): number {
    return this.starts.length;
  }

  has(n: number): boolean {
    const i = this.indexAtOrBefore(n);
    return i >= 0 && n < this.ends[i]!;
  }

  add(n: number): boolean {
    return this.addRange(n, n + 1) > 0;
  }

  /** Adds [start, end); returns how many integers were new. */
  addRange(start: number, end: number): number {
    if (end <= start) return 0;
    let i = this.indexAtOrBefore(start);
    if (i < 0 || this.ends[i]! < start) i++;
    let newStart = start;
    let newEnd = end;
    let removed = 0;
    let j = i;
    while (j < this.starts.length && this.starts[j]! <= end) {
      newStart = Math.min(newStart, this.starts[j]!);
      newEnd = Math.max(newEnd, this.ends[j]!);
      removed += this.ends[j]! - this.starts[j]!;
      j++;
    }
    if (j - i === 1) {
      this.starts[i] = newStart;
      this.ends[i] = newEnd;
    } else {
      this.starts.splice(i, j - i, newStart);
      this.ends.splice(i, j - i, newEnd);
    }
    const added = newEnd - newStart - removed;
    this.total += added;
    return added;
  }

  /** Removes everything below `n`; returns how many integers went. */
  deleteBelow(n: number): number {
    let removed = 0;
    while (this.starts.length > 0 && this.starts[0]! < n) {
      const cut = Math.min(this.ends[0]!, n);
      removed += cut - this.starts[0]!;
      if (cut === this.ends[0]) {
        this.starts.shift();
        this.ends.shift();
      } else this.starts[0] = cut;
    }
    this.total -= removed;
    return removed;
  }

  /** Count of members in [start, end). */
  countIn(start: number, end: number): number {
    let count = 0;
    for (let i = Math.max(0, this.indexAtOrBefore(start)); i < this.starts.length && this.starts[i]! < end; i++) {
      count += Math.max(0, Math.min(end, this.ends[i]!) - Math.max(start, this.starts[i]!));
    }
    return count;
  }

  /** The smallest member, or Infinity. */
  get min(): number {
    return this.starts.length === 0 ? Infinity : this.starts[0]!;
  }

  /** One past the end of the range holding the smallest member, or -Infinity. */
  get firstEnd(): number {
    return this.ends.length === 0 ? -Infinity : this.ends[0]!;
  }

  toArray(): Array<[number, number]> {
    return this.starts.map((s, i) => [s, this.ends[i]!]);
  }

  static from(ranges: ReadonlyArray<readonly [number, number]>): RangeSet {
    const set = new RangeSet();
    for (const [start, end] of ranges) set.addRange(start, end);
    return set;
  }

  private indexAtOrBefore(n: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! <= n) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}
