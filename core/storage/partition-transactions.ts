import { ControlType } from '../record/index.ts';

/** A transaction aborted in this partition: its first record and its abort marker (Kafka's AbortedTxn). */
export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
}

/**
 * One partition's transactions, as Kafka's ProducerStateManager and TransactionIndex keep them: the
 * open ones (producer -> first offset), the ones whose marker is written but not yet below the high
 * watermark, and the aborted ones in marker order. The last stable offset is the first offset of the
 * oldest of the first two kinds, capped by the high watermark; with none it is the high watermark.
 */
export class PartitionTransactions {
  private readonly open = new Map<number, number>();
  /** Completed transactions as (first offset, marker offset) pairs, flat, until the marker is committed. */
  private completing: number[] = [];
  /** Sorted by lastOffset (markers are appended in offset order). */
  private aborted: AbortedTransaction[] = [];

  /** Whether a transaction of `producerId` is open here. */
  isOpen(producerId: number): boolean {
    return this.open.has(producerId);
  }

  /** A transactional data batch at `offset`: opens the producer's transaction unless it is open already. */
  data(producerId: number, offset: number): void {
    if (!this.open.has(producerId)) this.open.set(producerId, offset);
  }

  /** A marker at `offset` ends the producer's open transaction, if any; an abort marker indexes it. */
  marker(producerId: number, type: number, offset: number): void {
    const first = this.open.get(producerId);
    if (first === undefined) return;
    this.open.delete(producerId);
    this.completing.push(first, offset);
    if (type === ControlType.abort) this.aborted.push({ producerId, firstOffset: first, lastOffset: offset });
  }

  /** The last stable offset under `highWatermark`; nothing is allocated when no transaction is open or completing. */
  lastStableOffset(highWatermark: number): number {
    if (this.open.size === 0 && this.completing.length === 0) return highWatermark;
    let lso = highWatermark;
    if (this.completing.length > 0) {
      const still: number[] = [];
      for (let i = 0; i < this.completing.length; i += 2) {
        if (this.completing[i + 1]! >= highWatermark) {
          still.push(this.completing[i]!, this.completing[i + 1]!);
          lso = Math.min(lso, this.completing[i]!);
        }
      }
      this.completing = still;
    }
    for (const first of this.open.values()) lso = Math.min(lso, first);
    return lso;
  }

  /** The aborted transactions that overlap [from, to): lastOffset >= from and firstOffset < to (Kafka's collectAbortedTxns). */
  abortedIn(from: number, to: number): AbortedTransaction[] {
    const list = this.aborted;
    if (list.length === 0) return NONE;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.lastOffset < from) lo = mid + 1;
      else hi = mid;
    }
    const out: AbortedTransaction[] = [];
    for (let i = lo; i < list.length; i++) if (list[i]!.firstOffset < to) out.push(list[i]!);
    return out;
  }

  /** Open transactions' first offsets, for DescribeProducers. */
  firstOffsetOf(producerId: number): number | undefined {
    return this.open.get(producerId);
  }

  /** Forgets aborted transactions wholly below `offset` (their segments were deleted). */
  dropBefore(offset: number): void {
    let n = 0;
    while (n < this.aborted.length && this.aborted[n]!.lastOffset < offset) n++;
    if (n > 0) this.aborted = this.aborted.slice(n);
  }

  /** Forgets these aborted transactions (the cleaner removed their records). */
  forget(transactions: readonly AbortedTransaction[]): void {
    if (transactions.length === 0) return;
    const gone = new Set(transactions);
    this.aborted = this.aborted.filter((t) => !gone.has(t));
  }

  clear(): void {
    this.open.clear();
    this.completing = [];
    this.aborted = [];
  }

  /** For the producer-state snapshot: open (producer, first offset) pairs and aborted triples, flat. */
  encode(): { open: number[]; aborted: number[] } {
    const open: number[] = [];
    for (const [producerId, first] of this.open) open.push(producerId, first);
    const aborted: number[] = [];
    for (const a of this.aborted) aborted.push(a.producerId, a.firstOffset, a.lastOffset);
    return { open, aborted };
  }

  /** The state a snapshot holds (the markers it saw are committed: nothing is completing). False if malformed. */
  decode(open: unknown, aborted: unknown): boolean {
    if (!isIntArray(open, 2) || !isIntArray(aborted, 3)) return false;
    this.clear();
    for (let i = 0; i < open.length; i += 2) this.open.set(open[i]!, open[i + 1]!);
    for (let i = 0; i < aborted.length; i += 3) this.aborted.push({ producerId: aborted[i]!, firstOffset: aborted[i + 1]!, lastOffset: aborted[i + 2]! });
    return true;
  }
}

const NONE: AbortedTransaction[] = Object.freeze([]) as unknown as AbortedTransaction[];

function isIntArray(value: unknown, stride: number): value is number[] {
  return Array.isArray(value) && value.length % stride === 0 && value.every(Number.isSafeInteger);
}
