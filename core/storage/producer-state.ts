import { pack, unpack } from 'msgpackr';
import { BrokerError } from '../errors.ts';
import { BatchField, CONTROL_FLAG, TRANSACTIONAL_FLAG, controlTypeAt, markerCoordinatorEpochAt, readInt64 } from '../record/index.ts';
import { PartitionTransactions } from './partition-transactions.ts';

/** Kafka keeps each producer's last five batches to recognise retries (ProducerStateEntry.NUM_BATCHES_TO_RETAIN). */
export const BATCHES_TO_RETAIN = 5;
/** Kafka's `producer.id.expiration.ms` default: a producer whose last batch is older is forgotten. */
export const PRODUCER_ID_EXPIRATION_MS = 24 * 60 * 60 * 1000;
const INT32_MAX = 2 ** 31 - 1;
/**
 * Version 3 adds each producer's coordinator epoch (after its last timestamp); version 2 added the open and
 * aborted transactions. Older snapshots still load (coordinator epoch -1, no transactions before 2).
 */
const SNAPSHOT_VERSION = 3;
const FIELDS_PER_BATCH = 5;
/** Fields before a producer's batches in a snapshot row, by snapshot version. */
const producerFields = (version: number): number => (version >= 3 ? 4 : 3);

interface BatchMetadata {
  firstSequence: number;
  lastSequence: number;
  baseOffset: number;
  lastOffset: number;
  /** The stored batch's maxTimestamp: its LogAppendTime when the broker stamped one. */
  timestamp: number;
}

interface ProducerEntry {
  epoch: number;
  lastTimestamp: number;
  /** The coordinator epoch of the producer's last marker here, -1 before one (Kafka's ProducerStateEntry.coordinatorEpoch). */
  coordinatorEpoch: number;
  /** Oldest first, at most BATCHES_TO_RETAIN, all of `epoch`. */
  batches: BatchMetadata[];
}

/** One producer as DescribeProducers shows it. */
export interface ProducerDescription {
  producerId: number;
  producerEpoch: number;
  lastSequence: number;
  lastTimestamp: number;
  /** The coordinator epoch of its last transaction marker here, or -1. */
  coordinatorEpoch: number;
  /** The first offset of its open transaction here, or -1. */
  currentTxnStartOffset: number;
}

/** What the log answers before a client's batch is appended. */
export type ProducerBatchCheck =
  | { readonly kind: 'append' }
  | { readonly kind: 'duplicate'; readonly baseOffset: number; readonly lastOffset: number; readonly timestamp: number }
  | { readonly kind: 'rejected'; readonly error: BrokerError };

/** What protocols see of a log's producer state: the check a client batch passes before it is appended. */
export interface ProducerStateView {
  /**
   * Checks the v2 batch at `pos` against its producer's state, as Kafka's ProducerAppendInfo does:
   * a retried batch (same producer, epoch and sequence range as one of the last five) is a duplicate
   * with the original offsets; an older epoch is INVALID_PRODUCER_EPOCH; a sequence that does not
   * follow the last one is OUT_OF_ORDER_SEQUENCE. Batches without a producer id always append.
   */
  check(batch: Buffer, pos?: number): ProducerBatchCheck;
  /**
   * Checks a transaction marker a coordinator asks the leader to write, as Kafka's appendEndTxnMarker:
   * INVALID_PRODUCER_EPOCH when the producer's epoch here is newer, TRANSACTION_COORDINATOR_FENCED when
   * its last marker came from a newer coordinator epoch (the sender is a deposed coordinator).
   */
  checkMarker(producerId: number, producerEpoch: number, coordinatorEpoch: number): BrokerError | undefined;
  /** The producer's newest epoch in this log, -1 when it is not known (Kafka's checkProducerEpoch for a coordinator's append). */
  epochOf(producerId: number): number;
  /**
   * Kafka's maybeStartTransactionVerification: undefined while the producer's transaction is open here
   * (its first batch was verified), else the producer's guard here, made if it has none.
   */
  startVerification(producerId: number, producerEpoch: number, now: number): VerificationGuard | undefined;
  /** Whether a transactional batch verified under `guard` may be appended now: the transaction is open here, or the guard is still the producer's. */
  holdsVerification(producerId: number, guard: VerificationGuard): boolean;
  /** Drops the producer's guard if it is still `guard` (its verification was refused). */
  dropVerification(producerId: number, guard: VerificationGuard): void;
  /** Every producer known to the log. */
  describe(): ProducerDescription[];
}

const APPEND: ProducerBatchCheck = Object.freeze({ kind: 'append' });

/**
 * Kafka's VerificationGuard: one verification of a producer's transaction in a partition, under way or
 * answered, valid until the producer's next transactional batch or marker here. An append presents the
 * guard it was verified under; a marker written meanwhile has ended it, and the batch is refused.
 */
export interface VerificationGuard {
  readonly producerEpoch: number;
  readonly createdAt: number;
}

/**
 * One log's idempotent-producer state, Kafka's ProducerStateManager table: built from the headers of
 * every batch the log appends (client or replica alike), so whoever holds the log holds the state.
 */
export class ProducerStateTable implements ProducerStateView {
  private readonly producers = new Map<number, ProducerEntry>();
  /** Guards of verifications under way or answered, by producer id (Kafka's verification state entries). */
  private readonly verifications = new Map<number, VerificationGuard>();
  /** Open, completing and aborted transactions, from the same headers (transactional batches and markers). */
  readonly transactions = new PartitionTransactions();

  /** Producers known. */
  get size(): number {
    return this.producers.size;
  }

  check(batch: Buffer, pos = 0): ProducerBatchCheck {
    const producerId = readInt64(batch, pos + BatchField.producerId);
    if (producerId < 0) return APPEND;
    const entry = this.producers.get(producerId);
    if (entry === undefined) return APPEND;
    const epoch = batch.readInt16BE(pos + BatchField.producerEpoch);
    const firstSequence = batch.readInt32BE(pos + BatchField.baseSequence);
    if (epoch === entry.epoch) {
      // Kafka's ProducerAppendInfo: a plain batch while the producer's transaction is open is refused.
      if ((batch.readInt16BE(pos + BatchField.attributes) & TRANSACTIONAL_FLAG) === 0 && this.transactions.isOpen(producerId)) {
        return { kind: 'rejected', error: new BrokerError('INVALID_TXN_STATE', `expected a transactional write from producer ${producerId}`) };
      }
      const lastSequence = addSequence(firstSequence, batch.readInt32BE(pos + BatchField.lastOffsetDelta));
      for (const b of entry.batches) {
        if (b.firstSequence === firstSequence && b.lastSequence === lastSequence) {
          return { kind: 'duplicate', baseOffset: b.baseOffset, lastOffset: b.lastOffset, timestamp: b.timestamp };
        }
      }
      const last = entry.batches[entry.batches.length - 1];
      if (last !== undefined && firstSequence !== addSequence(last.lastSequence, 1)) {
        return rejected('OUT_OF_ORDER_SEQUENCE', `out of order sequence number for producer ${producerId}: ${firstSequence} (incoming), ${last.lastSequence} (current end sequence number)`);
      }
      return APPEND;
    }
    if (epoch < entry.epoch) {
      return rejected('INVALID_PRODUCER_EPOCH', `epoch of producer ${producerId} is ${epoch}, which is smaller than the last seen epoch ${entry.epoch}`);
    }
    if (firstSequence !== 0) {
      return rejected('OUT_OF_ORDER_SEQUENCE', `invalid sequence number for new epoch ${epoch} of producer ${producerId}: ${firstSequence} (must be 0)`);
    }
    return APPEND;
  }

  checkMarker(producerId: number, producerEpoch: number, coordinatorEpoch: number): BrokerError | undefined {
    const entry = this.producers.get(producerId);
    if (entry === undefined) return undefined;
    if (producerEpoch < entry.epoch) return new BrokerError('INVALID_PRODUCER_EPOCH', `epoch of producer ${producerId} is ${producerEpoch}, which is smaller than the last seen epoch ${entry.epoch}`);
    if (coordinatorEpoch < entry.coordinatorEpoch) {
      return new BrokerError('TRANSACTION_COORDINATOR_FENCED', `invalid coordinator epoch for producer ${producerId}: ${coordinatorEpoch} (zombie), ${entry.coordinatorEpoch} (current)`);
    }
    return undefined;
  }

  epochOf(producerId: number): number {
    return this.producers.get(producerId)?.epoch ?? -1;
  }

  startVerification(producerId: number, producerEpoch: number, now: number): VerificationGuard | undefined {
    if (this.transactions.isOpen(producerId)) return undefined;
    const existing = this.verifications.get(producerId);
    if (existing !== undefined && existing.producerEpoch >= producerEpoch) return existing;
    const guard: VerificationGuard = { producerEpoch, createdAt: now };
    this.verifications.set(producerId, guard);
    return guard;
  }

  holdsVerification(producerId: number, guard: VerificationGuard): boolean {
    return this.transactions.isOpen(producerId) || this.verifications.get(producerId) === guard;
  }

  dropVerification(producerId: number, guard: VerificationGuard): void {
    if (this.verifications.get(producerId) === guard) this.verifications.delete(producerId);
  }

  /**
   * Records the stored batch at `pos` (offset assigned, timestamps final). A new epoch replaces the
   * producer's batches, as in Kafka, whatever the order: replicated batches are not checked.
   */
  update(batch: Buffer, pos: number): void {
    const producerId = readInt64(batch, pos + BatchField.producerId);
    if (producerId < 0) return;
    const epoch = batch.readInt16BE(pos + BatchField.producerEpoch);
    const firstSequence = batch.readInt32BE(pos + BatchField.baseSequence);
    const lastOffsetDelta = batch.readInt32BE(pos + BatchField.lastOffsetDelta);
    const baseOffset = readInt64(batch, pos + BatchField.baseOffset);
    const timestamp = readInt64(batch, pos + BatchField.maxTimestamp);
    let entry = this.producers.get(producerId);
    if (entry === undefined) this.producers.set(producerId, (entry = { epoch, lastTimestamp: timestamp, coordinatorEpoch: -1, batches: [] }));
    else if (entry.epoch !== epoch) {
      entry.epoch = epoch;
      entry.batches.length = 0;
    }
    const attributes = batch.readInt16BE(pos + BatchField.attributes);
    // A transactional batch opens the transaction here and a marker ends it: either way the guard is spent (Kafka's updateProducers).
    if ((attributes & TRANSACTIONAL_FLAG) !== 0 && this.verifications.size > 0) this.verifications.delete(producerId);
    if ((attributes & CONTROL_FLAG) !== 0) {
      // A transaction marker ends the producer's transaction here; it has no sequence (Kafka's appendEndTxnMarker).
      this.transactions.marker(producerId, controlTypeAt(batch, pos) ?? -1, baseOffset);
      entry.coordinatorEpoch = markerCoordinatorEpochAt(batch, pos);
      entry.lastTimestamp = timestamp;
      return;
    }
    if ((attributes & TRANSACTIONAL_FLAG) !== 0) this.transactions.data(producerId, baseOffset);
    const lastSequence = addSequence(firstSequence, lastOffsetDelta);
    const lastOffset = baseOffset + lastOffsetDelta;
    if (entry.batches.length < BATCHES_TO_RETAIN) entry.batches.push({ firstSequence, lastSequence, baseOffset, lastOffset, timestamp });
    else {
      // A full window reuses its oldest slot: no allocation per batch once a producer is warm.
      const slot = entry.batches.shift()!;
      slot.firstSequence = firstSequence;
      slot.lastSequence = lastSequence;
      slot.baseOffset = baseOffset;
      slot.lastOffset = lastOffset;
      slot.timestamp = timestamp;
      entry.batches.push(slot);
    }
    entry.lastTimestamp = timestamp;
  }

  /** The last offset of the producer's newest batch, if the producer is known. */
  lastOffsetOf(producerId: number): number | undefined {
    const batches = this.producers.get(producerId)?.batches;
    return batches?.[batches.length - 1]?.lastOffset;
  }

  /** Forgets producers whose last batch is `expirationMs` older than `now` (Kafka's removeExpiredProducers). */
  removeExpired(now: number, expirationMs = PRODUCER_ID_EXPIRATION_MS): void {
    for (const [producerId, entry] of this.producers) {
      if (now - entry.lastTimestamp >= expirationMs && !this.transactions.isOpen(producerId)) this.producers.delete(producerId);
    }
    for (const [producerId, guard] of this.verifications) if (now - guard.createdAt >= expirationMs) this.verifications.delete(producerId);
  }

  /** Every producer known here, as Kafka's DescribeProducers answers (last sequence -1 when none is kept). */
  describe(): ProducerDescription[] {
    return [...this.producers].map(([producerId, entry]) => ({
      producerId,
      producerEpoch: entry.epoch,
      lastSequence: entry.batches[entry.batches.length - 1]?.lastSequence ?? -1,
      lastTimestamp: entry.lastTimestamp,
      coordinatorEpoch: entry.coordinatorEpoch,
      currentTxnStartOffset: this.transactions.firstOffsetOf(producerId) ?? -1,
    }));
  }

  clear(): void {
    this.producers.clear();
    this.verifications.clear();
    this.transactions.clear();
  }

  /** The table as snapshot bytes (msgpack): every producer with its epoch, last timestamp, coordinator epoch and retained batches. */
  encode(): Buffer {
    const producers: number[][] = [];
    for (const [producerId, entry] of this.producers) {
      const row = [producerId, entry.epoch, entry.lastTimestamp, entry.coordinatorEpoch];
      for (const b of entry.batches) row.push(b.firstSequence, b.lastSequence, b.baseOffset, b.lastOffset, b.timestamp);
      producers.push(row);
    }
    return pack({ version: SNAPSHOT_VERSION, producers, ...this.transactions.encode() });
  }

  /** The table a snapshot holds; CORRUPT_RECORD if the bytes are not one. */
  static decode(bytes: Buffer): ProducerStateTable {
    let value: unknown;
    try {
      value = unpack(bytes);
    } catch (err) {
      throw new BrokerError('CORRUPT_RECORD', 'producer state snapshot is not msgpack', { cause: err });
    }
    const { version, producers, open, aborted } = (value ?? {}) as { version?: unknown; producers?: unknown; open?: unknown; aborted?: unknown };
    if ((version !== 1 && version !== 2 && version !== SNAPSHOT_VERSION) || !Array.isArray(producers)) throw new BrokerError('CORRUPT_RECORD', 'producer state snapshot has an unknown layout');
    const table = new ProducerStateTable();
    if (version !== 1 && !table.transactions.decode(open, aborted)) throw new BrokerError('CORRUPT_RECORD', 'producer state snapshot has malformed transactions');
    const head = producerFields(version);
    for (const row of producers as unknown[]) {
      if (!Array.isArray(row) || row.length < head || (row.length - head) % FIELDS_PER_BATCH !== 0 || (row.length - head) / FIELDS_PER_BATCH > BATCHES_TO_RETAIN || !row.every(Number.isSafeInteger)) {
        throw new BrokerError('CORRUPT_RECORD', 'producer state snapshot has a malformed producer');
      }
      const [producerId, epoch, lastTimestamp] = row as number[];
      const coordinatorEpoch = head > 3 ? (row[3] as number) : -1;
      const batches: BatchMetadata[] = [];
      for (let i = head; i < row.length; i += FIELDS_PER_BATCH) {
        const [firstSequence, lastSequence, baseOffset, lastOffset, timestamp] = (row as number[]).slice(i, i + FIELDS_PER_BATCH) as [number, number, number, number, number];
        batches.push({ firstSequence, lastSequence, baseOffset, lastOffset, timestamp });
      }
      table.producers.set(producerId!, { epoch: epoch!, lastTimestamp: lastTimestamp!, coordinatorEpoch, batches });
    }
    return table;
  }
}

/** Sequence arithmetic wraps at INT32_MAX to 0, as Kafka's DefaultRecordBatch.incrementSequence. */
function addSequence(sequence: number, increment: number): number {
  const next = sequence + increment;
  return next > INT32_MAX ? next - INT32_MAX - 1 : next;
}

function rejected(code: 'INVALID_PRODUCER_EPOCH' | 'OUT_OF_ORDER_SEQUENCE', message: string): ProducerBatchCheck {
  return { kind: 'rejected', error: new BrokerError(code, message) };
}
