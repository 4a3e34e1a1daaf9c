import { BatchField, ControlType, TRANSACTIONAL_FLAG, controlTypeAt, readInt64 } from '../record/index.ts';
import { AbortedBatches } from './aborted-batches.ts';
import type { AbortedTransaction } from './partition-transactions.ts';

/**
 * What one cleaning pass learns about transactions as it reads the log in offset order (Kafka's
 * CleanedTransactionMetadata): which data batches belong to aborted transactions (their records go), which
 * markers no longer end any record left in the log (they may go once their delete horizon passes), and
 * which aborted transactions the aborted index no longer needs.
 */
export class TransactionCleaning {
  private readonly aborted: AbortedBatches;
  /** Producers with a committed transaction's batch read since that transaction's marker. */
  private readonly committedRead = new Set<number>();
  /** Aborted transactions with a batch read in this pass. */
  private readonly abortedRead = new Set<AbortedTransaction>();

  /** `abortedInRange`: the aborted transactions that overlap the range the pass reads. */
  constructor(private readonly abortedInRange: readonly AbortedTransaction[]) {
    this.aborted = new AbortedBatches(abortedInRange);
  }

  /** A data batch read: true if it belongs to an aborted transaction. */
  isAbortedData(batch: Buffer, baseOffset: number): boolean {
    if ((batch.readInt16BE(BatchField.attributes) & TRANSACTIONAL_FLAG) === 0) return false;
    const producerId = readInt64(batch, BatchField.producerId);
    const transaction = this.aborted.transactionAt(producerId, baseOffset);
    if (transaction !== undefined) {
      this.abortedRead.add(transaction);
      return true;
    }
    this.committedRead.add(producerId);
    return false;
  }

  /** A marker read: true if no record of its transaction is left (an emptied control batch counts). */
  endsNoRecord(batch: Buffer, baseOffset: number): boolean {
    const producerId = readInt64(batch, BatchField.producerId);
    switch (controlTypeAt(batch, 0)) {
      case undefined:
        return true;
      case ControlType.abort: {
        const transaction = this.aborted.transactionAt(producerId, baseOffset);
        return transaction === undefined || !this.abortedRead.has(transaction);
      }
      case ControlType.commit:
        return !this.committedRead.delete(producerId);
      default:
        return false;
    }
  }

  /** The aborted transactions ending below `end` of which the pass read nothing: no record of theirs is left. */
  emptiedBelow(end: number): AbortedTransaction[] {
    return this.abortedInRange.filter((t) => t.lastOffset < end && !this.abortedRead.has(t));
  }
}
