import type { AbortedTransaction } from './partition-transactions.ts';

/**
 * Tells the cleaner whether a transactional batch belongs to an aborted transaction, as it reads a range
 * of the log in offset order (the deciding part of Kafka's CleanedTransactionMetadata). A producer's
 * transactions never overlap, so each producer's aborted ones are a sorted list walked once.
 */
export class AbortedBatches {
  private readonly byProducer = new Map<number, { transactions: AbortedTransaction[]; next: number }>();

  /** `aborted`: the partition's aborted transactions that overlap the range, in marker order. */
  constructor(aborted: readonly AbortedTransaction[]) {
    for (const transaction of aborted) {
      const entry = this.byProducer.get(transaction.producerId);
      if (entry === undefined) this.byProducer.set(transaction.producerId, { transactions: [transaction], next: 0 });
      else entry.transactions.push(transaction);
    }
  }

  /** The aborted transaction `producerId`'s transactional batch at `offset` belongs to; offsets must not go back between calls. */
  transactionAt(producerId: number, offset: number): AbortedTransaction | undefined {
    const entry = this.byProducer.get(producerId);
    if (entry === undefined) return undefined;
    const { transactions } = entry;
    while (entry.next < transactions.length && transactions[entry.next]!.lastOffset < offset) entry.next++;
    const transaction = transactions[entry.next];
    return transaction !== undefined && transaction.firstOffset <= offset ? transaction : undefined;
  }
}
