/** A binary min-heap of (due, offset) pairs in typed arrays: no object per entry. Ties break by offset. */
export class TimerHeap {
  private due = new Float64Array(1024);
  private offsets = new Float64Array(1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The earliest due time, or Infinity when empty. */
  get nextDue(): number {
    return this.count > 0 ? this.due[0]! : Infinity;
  }

  get nextOffset(): number {
    return this.count > 0 ? this.offsets[0]! : -1;
  }

  push(due: number, offset: number): void {
    if (this.count === this.due.length) this.grow();
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(due, offset, this.due[parent]!, this.offsets[parent]!)) break;
      this.due[i] = this.due[parent]!;
      this.offsets[i] = this.offsets[parent]!;
      i = parent;
    }
    this.due[i] = due;
    this.offsets[i] = offset;
  }

  /** Removes the earliest entry (read it first with nextDue / nextOffset). */
  pop(): void {
    if (this.count === 0) return;
    const last = --this.count;
    const due = this.due[last]!;
    const offset = this.offsets[last]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= last) break;
      const right = left + 1;
      const child = right < last && less(this.due[right]!, this.offsets[right]!, this.due[left]!, this.offsets[left]!) ? right : left;
      if (!less(this.due[child]!, this.offsets[child]!, due, offset)) break;
      this.due[i] = this.due[child]!;
      this.offsets[i] = this.offsets[child]!;
      i = child;
    }
    this.due[i] = due;
    this.offsets[i] = offset;
  }

  /** The smallest offset held (a linear scan: for occasional reclamation). */
  minOffset(): number {
    let min = Infinity;
    for (let i = 0; i < this.count; i++) if (this.offsets[i]! < min) min = this.offsets[i]!;
    return min;
  }

  private grow(): void {
    const due = new Float64Array(this.due.length * 2);
    const offsets = new Float64Array(this.offsets.length * 2);
    due.set(this.due);
    offsets.set(this.offsets);
    this.due = due;
    this.offsets = offsets;
  }
}

function less(due: number, offset: number, otherDue: number, otherOffset: number): boolean {
  return due < otherDue || (due === otherDue && offset < otherOffset);
}
