/** Kafka's TransactionState names, as DescribeTransactions and ListTransactions report them. */
export type TxnState = 'Empty' | 'Ongoing' | 'PrepareCommit' | 'PrepareAbort' | 'CompleteCommit' | 'CompleteAbort' | 'Dead';

export const TXN_STATES: readonly TxnState[] = ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead'];

/** A consumed offset committed inside a transaction: visible to the group only once the transaction commits. */
export interface PendingOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

/**
 * One transactional id's state as the transaction log stores it (Kafka's TransactionMetadata, what
 * TransactionLog writes): its producer id and epoch, timeout, state, the partitions and groups in the
 * transaction, and the offsets committed in it. Never changed in place: a transition stores a new one.
 */
export interface TxnMetadata {
  transactionalId: string;
  producerId: number;
  /** The id this transactional id had before its epoch was exhausted, else -1. */
  previousProducerId: number;
  producerEpoch: number;
  /** The epoch before the last bump, to recognise a retried InitProducerId; -1 if none. */
  lastProducerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  /** `topic\u0000partition` keys. */
  partitions: string[];
  /** Groups whose offsets the transaction commits (AddOffsetsToTxn). */
  groups: string[];
  /** Offsets committed in the transaction (TxnOffsetCommit), by group. */
  offsets: Record<string, PendingOffset[]>;
  /** When the transaction began (its first AddPartitionsToTxn), -1 outside one. */
  startTimestamp: number;
  updateTimestamp: number;
}

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
/** Short.MaxValue - 1: a producer id whose epoch reached this gets a new id (TransactionMetadata.isEpochExhausted). */
const EXHAUSTED_EPOCH = 32766;

export const isEpochExhausted = (epoch: number): boolean => epoch >= EXHAUSTED_EPOCH;

export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export function parsePartitionKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

/** Whether a transition is under way: Prepare* waits for its markers. */
export const isPreparing = (state: TxnState): boolean => state === 'PrepareCommit' || state === 'PrepareAbort';
