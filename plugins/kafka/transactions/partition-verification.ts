import type { PartitionLog, VerificationGuard } from '../../../core/index.ts';
import { KafkaError, type KafkaErrorCode } from '../error-codes.ts';
import type { TransactionCoordinator } from './transaction-coordinator.ts';

/** A question to the coordinator under way or answered: `settle` takes the answer in the turn that appends. */
export interface Verification {
  readonly answer: KafkaErrorCode | Promise<KafkaErrorCode>;
  /**
   * NONE when the append may go ahead now: the coordinator said yes and no marker spent the guard since
   * (else INVALID_TXN_STATE); otherwise the coordinator's refusal. Call it in the turn of the append.
   */
  settle(errorCode: KafkaErrorCode): KafkaErrorCode;
}

interface Asked {
  readonly transactionalId: string;
  readonly producerEpoch: number;
  answer: KafkaErrorCode | Promise<KafkaErrorCode>;
  /** Another id's or epoch's write carried the producer's id meanwhile: a refusal then leaves the guard alone. */
  contested: boolean;
}

/**
 * The answers under way, and once yes, until the guard is spent (the transaction opened or ended in the
 * partition). Shared only by writes naming the same transactional id and producer epoch: any other write
 * carrying the producer's id (a zombie's older epoch, another id) is asked about on its own.
 */
const asked = new WeakMap<VerificationGuard, Asked>();

/**
 * Kafka's transaction verification (KIP-890 part 1) before a transactional write to a partition (a
 * Produce batch, or a TxnOffsetCommit into `__consumer_offsets`): undefined while the producer's
 * transaction is open there (its first write was verified); else the id's coordinator is asked (here, or
 * a peer: the one round trip) under a guard that a marker written meanwhile spends.
 */
export function verifyPartition(
  transactions: TransactionCoordinator,
  log: PartitionLog,
  now: number,
  transactionalId: string,
  producerId: number,
  producerEpoch: number,
  topic: string,
  partition: number,
): Verification | undefined {
  const guard = log.producerState.startVerification(producerId, producerEpoch, now);
  if (guard === undefined) return undefined;
  let entry = asked.get(guard);
  const same = (e: Asked) => e.transactionalId === transactionalId && e.producerEpoch === producerEpoch;
  let answer: KafkaErrorCode | Promise<KafkaErrorCode>;
  if (entry !== undefined && same(entry)) answer = entry.answer;
  else {
    answer = transactions.verify(transactionalId, producerId, producerEpoch, topic, partition);
    if (entry === undefined) asked.set(guard, (entry = { transactionalId, producerEpoch, answer, contested: false }));
    else entry.contested = true;
  }
  const own = same(entry);
  return {
    answer,
    settle: (errorCode) => {
      if (errorCode !== KafkaError.NONE) {
        if (own && asked.get(guard) === entry) asked.delete(guard);
        // Refused guards are not kept (Kafka keeps them until producer.id.expiration.ms), unless another id's write shares it.
        if (own && !entry.contested) log.producerState.dropVerification(producerId, guard);
        return errorCode;
      }
      if (own) entry.answer = KafkaError.NONE;
      // A marker written while the coordinator was asked has spent the guard: the write belongs to no open transaction.
      return log.producerState.holdsVerification(producerId, guard) ? KafkaError.NONE : KafkaError.INVALID_TXN_STATE;
    },
  };
}

/** Runs `write` once the verification allows it, in the turn that settles it; `refused` otherwise. */
export function afterVerification<T>(verification: Verification, write: () => T, refused: (errorCode: KafkaErrorCode) => T): T | Promise<T> {
  const finish = (errorCode: KafkaErrorCode): T => {
    const settled = verification.settle(errorCode);
    return settled === KafkaError.NONE ? write() : refused(settled);
  };
  return typeof verification.answer === 'number' ? finish(verification.answer) : verification.answer.then(finish);
}

/** Kafka's AddPartitionsToTxnManager: PRODUCER_FENCED is INVALID_PRODUCER_EPOCH, and TRANSACTION_ABORTABLE is INVALID_TXN_STATE to a client older than the version that knows it. */
export function clientVerificationError(errorCode: KafkaErrorCode, knowsAbortable: boolean): KafkaErrorCode {
  if (errorCode === KafkaError.PRODUCER_FENCED) return KafkaError.INVALID_PRODUCER_EPOCH;
  if (errorCode === KafkaError.TRANSACTION_ABORTABLE && !knowsAbortable) return KafkaError.INVALID_TXN_STATE;
  return errorCode;
}
