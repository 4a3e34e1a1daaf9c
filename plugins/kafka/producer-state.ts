import { KafkaError, type KafkaErrorCode } from './error-codes.ts';

/** Kafka keeps the last five batches per producer and partition to recognise retries. */
const BATCHES_TO_RETAIN = 5;
const INT32_MAX = 2 ** 31 - 1;

interface BatchMetadata {
  firstSequence: number;
  lastSequence: number;
  baseOffset: number;
  logAppendTime: number;
}

interface ProducerEntry {
  epoch: number;
  batches: BatchMetadata[];
}

export interface IdempotentBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** Records in the batch minus one. */
  lastOffsetDelta: number;
}

export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; baseOffset: number; logAppendTime: number }
  | { kind: 'error'; error: KafkaErrorCode };

/**
 * Idempotent-producer state for one partition: epochs and the sequence window, as Kafka's
 * ProducerAppendInfo checks them. A retried batch is answered with its original offsets.
 */
export class ProducerState {
  private readonly producers = new Map<number, ProducerEntry>();

  check(batch: IdempotentBatch): SequenceCheck {
    if (batch.producerId < 0) return { kind: 'append' };
    const entry = this.producers.get(batch.producerId);
    if (!entry) return { kind: 'append' };
    if (batch.producerEpoch < entry.epoch) return { kind: 'error', error: KafkaError.INVALID_PRODUCER_EPOCH };
    const lastSequence = lastSequenceOf(batch);
    if (batch.producerEpoch > entry.epoch) {
      return batch.baseSequence === 0 ? { kind: 'append' } : { kind: 'error', error: KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER };
    }
    const duplicate = entry.batches.find((b) => b.firstSequence === batch.baseSequence && b.lastSequence === lastSequence);
    if (duplicate) return { kind: 'duplicate', baseOffset: duplicate.baseOffset, logAppendTime: duplicate.logAppendTime };
    const newest = entry.batches[entry.batches.length - 1];
    if (newest && batch.baseSequence !== nextSequence(newest.lastSequence)) {
      return { kind: 'error', error: KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER };
    }
    return { kind: 'append' };
  }

  /** Records an appended batch (call only for batches check() accepted). */
  record(batch: IdempotentBatch, baseOffset: number, logAppendTime: number): void {
    if (batch.producerId < 0) return;
    let entry = this.producers.get(batch.producerId);
    if (!entry || batch.producerEpoch > entry.epoch) {
      entry = { epoch: batch.producerEpoch, batches: [] };
      this.producers.set(batch.producerId, entry);
    }
    entry.batches.push({ firstSequence: batch.baseSequence, lastSequence: lastSequenceOf(batch), baseOffset, logAppendTime });
    if (entry.batches.length > BATCHES_TO_RETAIN) entry.batches.shift();
  }
}

function lastSequenceOf(batch: IdempotentBatch): number {
  const last = batch.baseSequence + batch.lastOffsetDelta;
  return last > INT32_MAX ? last - INT32_MAX - 1 : last;
}

function nextSequence(sequence: number): number {
  return sequence === INT32_MAX ? 0 : sequence + 1;
}
