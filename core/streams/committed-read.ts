import { BatchField, readInt64, TRANSACTIONAL_FLAG } from '../record/index.ts';
import type { AbortedTransaction, PartitionLog } from '../storage/index.ts';

/** Batches a stream reader may see, and the aborted transactions among them. */
export interface CommittedRead {
  /** Whole batches from the one holding the offset read, none at or past the last stable offset; possibly empty. */
  records: Buffer;
  aborted: readonly AbortedTransaction[];
}

const NOTHING: CommittedRead = Object.freeze({ records: Buffer.alloc(0), aborted: Object.freeze([]) as readonly AbortedTransaction[] });

/**
 * A stream's log as RabbitMQ's readers see it when Kafka transactions write to it too (Kafka's
 * read_committed): batches up to the last stable offset only, so an open transaction's records wait for
 * its end, with the aborted transactions they overlap, which `isAbortedBatch` then skips.
 */
export async function readCommitted(log: PartitionLog, offset: number, maxBytes: number): Promise<CommittedRead> {
  const stable = log.lastStableOffset;
  if (offset >= stable) return NOTHING;
  const { records } = await log.read(offset, maxBytes, stable);
  if (records.length === 0) return NOTHING;
  return { records, aborted: log.abortedTransactions(offset, stable) };
}

/** Is the batch at `pos` a data batch of one of the `aborted` transactions? (Transaction markers are control batches, told apart by the caller.) */
export function isAbortedBatch(buf: Buffer, pos: number, aborted: readonly AbortedTransaction[]): boolean {
  if (aborted.length === 0 || (buf.readInt16BE(pos + BatchField.attributes) & TRANSACTIONAL_FLAG) === 0) return false;
  const producerId = readInt64(buf, pos + BatchField.producerId);
  const baseOffset = readInt64(buf, pos + BatchField.baseOffset);
  for (const a of aborted) if (a.producerId === producerId && a.firstOffset <= baseOffset && baseOffset <= a.lastOffset) return true;
  return false;
}
