import {
  BrokerError,
  ControlType,
  MetadataLog,
  OFFSETS_TOPIC,
  encodeTxnMarker,
  type Clock,
  type Coordination,
  type FlushPolicy,
  type Logger,
  type OffsetStore,
  type StorageEngine,
  type Timer,
  type TopicRegistry,
  type MarkersRequest,
  type MarkersResponse,
  type TxnMarkerChannel,
} from '../../../core/index.ts';
import { coordinatorErrorOf, KafkaError, type KafkaErrorCode } from '../error-codes.ts';
import type { ProducerIds } from '../producer-ids.ts';
import {
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  isEpochExhausted,
  isPreparing,
  parsePartitionKey,
  partitionKey,
  type PendingOffset,
  type TxnMetadata,
  type TxnState,
} from './transaction-metadata.ts';
import type { TransactionStateTopic, TxnPlacement, TxnStore } from './transaction-state-topic.ts';
import { VerificationBatches } from './verification-batches.ts';

/** The transaction log: Kafka's __transaction_state, a compacted core internal log keyed by transactional id. */
export const TRANSACTION_LOG = 'kafka-transactions';
/** Single node: the coordinator's epoch never changes (in a cluster it is the leader epoch of the log partition). */
const COORDINATOR_EPOCH = 0;
/** A marker or state write that failed (a full disk, say) is retried after this long, as Kafka's marker channel retries. */
const RETRY_BACKOFF_MS = 1000;

export interface TransactionSettings {
  /** transaction.max.timeout.ms: the longest transaction timeout a producer may ask for. */
  maxTimeoutMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms: how often timed-out transactions are looked for. */
  abortTimedOutIntervalMs: number;
  /** transactional.id.expiration.ms: an id whose transaction ended (or never began) this long ago is forgotten. */
  idExpirationMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms: how often expired ids are looked for. */
  removeExpiredIntervalMs: number;
}

interface Deps {
  topics: TopicRegistry;
  offsets: OffsetStore;
  producerIds: ProducerIds;
  clock: Clock;
  logger: Logger;
  settings: TransactionSettings;
  /** Where markers are written by partition leaders (every marker in a cluster; WriteTxnMarkers on any broker). */
  markers: TxnMarkerChannel;
}

/** Cluster mode: where ids are coordinated. */
interface Clustered {
  placement: TxnPlacement;
}

export interface InitResult {
  errorCode: KafkaErrorCode;
  producerId: number;
  producerEpoch: number;
}

const failedInit = (errorCode: KafkaErrorCode): InitResult => ({ errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH });

/**
 * Kafka's TransactionCoordinator: the state of every transactional id lives in a compacted log and is
 * written before a transition is answered; ending a transaction writes Prepare*, answers, then (the
 * answer written) writes a marker into every partition of the transaction, applies (on commit) the
 * offsets committed in it, and writes Complete*. A Prepare* found on start is completed. Transactions older than their timeout are
 * aborted with the producer's epoch bumped, which fences it. On a single node the log is one internal
 * log and the markers are written here. In a cluster (`openClustered`) the log is the replicated
 * `__transaction_state`, this broker coordinates the ids of the partitions it leads, and each marker
 * (one per data partition, one per group's `__consumer_offsets` partition) is written by that
 * partition's leader through the marker channel.
 */
export class TransactionCoordinator {
  /** Transactional ids with a state write in flight: other requests for them get CONCURRENT_TRANSACTIONS. */
  private readonly pending = new Set<string>();
  private readonly completing = new Map<string, Promise<void>>();
  private readonly partitionSets = new WeakMap<TxnMetadata, Set<string>>();
  private readonly timers: Timer[] = [];
  private readonly questions: VerificationBatches;
  private closed = false;

  private constructor(
    private readonly log: TxnStore,
    private readonly deps: Deps,
    private readonly clustered?: Clustered,
  ) {
    this.questions = new VerificationBatches(deps.markers, deps.logger);
  }

  /** `flush`: the topics' flush policy, which the transaction log follows (as Kafka's __transaction_state follows log.flush.*). */
  static async open(engine: StorageEngine, flush: FlushPolicy, deps: Deps): Promise<TransactionCoordinator> {
    const coordinator = new TransactionCoordinator(await MetadataLog.open<TxnMetadata>(engine, TRANSACTION_LOG, { flush }), deps);
    for (const txn of coordinator.log.values()) if (isPreparing(txn.state)) coordinator.complete(txn);
    coordinator.startChecks();
    return coordinator;
  }

  /** Cluster mode: ids are coordinated by the leader of their `__transaction_state` partition. */
  static openClustered(state: TransactionStateTopic, deps: Deps): TransactionCoordinator {
    const coordinator = new TransactionCoordinator(state, deps, { placement: state });
    deps.markers.serveVerification((request) => ({ errors: coordinator.verifyHere(request.transactionalId, request.producerId, request.producerEpoch, request.partitions) }));
    state.onLoaded = (txns) => {
      for (const txn of txns) if (isPreparing(txn.state)) coordinator.complete(txn);
    };
    state.open();
    coordinator.startChecks();
    return coordinator;
  }

  /** Where the id is coordinated: always here on a single node. */
  coordination(transactionalId: string): Coordination {
    return this.clustered?.placement.coordination(transactionalId) ?? HERE;
  }

  /** Stops the timeout checks and waits for the completions under way (their markers are written). */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) timer.cancel();
    await Promise.all(this.completing.values());
  }

  get(transactionalId: string): Readonly<TxnMetadata> | undefined {
    return this.log.get(transactionalId);
  }

  all(): IterableIterator<Readonly<TxnMetadata>> {
    return this.log.values();
  }

  /** Kafka's handleInitProducerId for a transactional id: a new epoch (fencing the previous one), after any open transaction is aborted. */
  async initProducerId(transactionalId: string, timeoutMs: number, expected: { producerId: number; epoch: number } | undefined): Promise<InitResult> {
    if (transactionalId === '') return failedInit(KafkaError.INVALID_REQUEST);
    if (!(timeoutMs > 0 && timeoutMs <= this.deps.settings.maxTimeoutMs)) return failedInit(KafkaError.INVALID_TRANSACTION_TIMEOUT);
    const elsewhere = this.coordinatorError(transactionalId);
    if (elsewhere !== undefined) return failedInit(elsewhere);
    if (this.pending.has(transactionalId)) return failedInit(KafkaError.CONCURRENT_TRANSACTIONS);
    this.pending.add(transactionalId);
    try {
      const txn = this.log.get(transactionalId) ?? this.created(transactionalId, await this.deps.producerIds.allocate(), timeoutMs);
      if (expected !== undefined && !validExpectedProducer(txn, expected)) return failedInit(KafkaError.PRODUCER_FENCED);
      switch (txn.state) {
        case 'PrepareCommit':
        case 'PrepareAbort':
          return failedInit(KafkaError.CONCURRENT_TRANSACTIONS);
        case 'Ongoing': {
          // The open transaction is aborted under a bumped epoch; the producer retries and gets the epoch after it.
          const errorCode = await this.fenceAndAbort(txn);
          return failedInit(errorCode === KafkaError.NONE ? KafkaError.CONCURRENT_TRANSACTIONS : errorCode);
        }
        default: {
          const next = await this.nextEpoch(txn, timeoutMs, expected);
          if (typeof next === 'number') return failedInit(next as KafkaErrorCode);
          const errorCode = await this.write(next);
          return errorCode === KafkaError.NONE ? { errorCode, producerId: next.producerId, producerEpoch: next.producerEpoch } : failedInit(errorCode);
        }
      }
    } finally {
      this.pending.delete(transactionalId);
    }
  }

  /** AddPartitionsToTxn (partitions) and AddOffsetsToTxn (a group): Kafka's handleAddPartitionsToTransaction. */
  async add(transactionalId: string, producerId: number, producerEpoch: number, partitions: ReadonlyArray<{ topic: string; partition: number }>, groups: readonly string[]): Promise<KafkaErrorCode> {
    if (transactionalId === '') return KafkaError.INVALID_REQUEST;
    const elsewhere = this.coordinatorError(transactionalId);
    if (elsewhere !== undefined) return elsewhere;
    const txn = this.log.get(transactionalId);
    const refused = this.producerRefusal(txn, producerId, producerEpoch, KafkaError.PRODUCER_FENCED);
    if (refused !== undefined) return refused;
    if (this.pending.has(transactionalId) || isPreparing(txn!.state)) return KafkaError.CONCURRENT_TRANSACTIONS;
    const keys = partitions.map((p) => partitionKey(p.topic, p.partition));
    const fresh = txn!.state !== 'Ongoing';
    const known = fresh ? new Set<string>() : this.partitionsOf(txn!);
    if (!fresh && keys.every((k) => known.has(k)) && groups.every((g) => txn!.groups.includes(g))) return KafkaError.NONE;
    const now = this.deps.clock.now();
    return this.transition(txn!, {
      ...txn!,
      state: 'Ongoing',
      partitions: [...new Set([...(fresh ? [] : txn!.partitions), ...keys])],
      groups: [...new Set([...(fresh ? [] : txn!.groups), ...groups])],
      offsets: fresh ? {} : txn!.offsets,
      startTimestamp: fresh ? now : txn!.startTimestamp,
      updateTimestamp: now,
    });
  }

  /**
   * TxnOffsetCommit: the offsets are kept with the transaction (durably) and reach the group only when it
   * commits. The group must have been added to the transaction (AddOffsetsToTxn), as Kafka verifies.
   */
  async commitOffsets(transactionalId: string, producerId: number, producerEpoch: number, group: string, offsets: readonly PendingOffset[]): Promise<KafkaErrorCode> {
    const txn = this.log.get(transactionalId);
    const refused = this.producerRefusal(txn, producerId, producerEpoch, KafkaError.INVALID_PRODUCER_EPOCH);
    if (refused !== undefined) return refused;
    if (this.pending.has(transactionalId) || isPreparing(txn!.state)) return KafkaError.CONCURRENT_TRANSACTIONS;
    // As the group's partition would fail Kafka's verification (KIP-890); INVALID_TXN_STATE to clients before TxnOffsetCommit v4.
    if (txn!.state !== 'Ongoing' || !txn!.groups.includes(group)) return KafkaError.TRANSACTION_ABORTABLE;
    const merged = new Map((txn!.offsets[group] ?? []).map((o) => [partitionKey(o.topic, o.partition), o]));
    for (const o of offsets) merged.set(partitionKey(o.topic, o.partition), o);
    return this.transition(txn!, { ...txn!, offsets: { ...txn!.offsets, [group]: [...merged.values()] }, updateTimestamp: this.deps.clock.now() });
  }

  /** EndTxn: Kafka's handleEndTransaction (transaction version 1: the client's epoch must be the current one). */
  async end(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): Promise<KafkaErrorCode> {
    if (transactionalId === '') return KafkaError.INVALID_REQUEST;
    const elsewhere = this.coordinatorError(transactionalId);
    if (elsewhere !== undefined) return elsewhere;
    const txn = this.log.get(transactionalId);
    const refused = this.producerRefusal(txn, producerId, producerEpoch, KafkaError.PRODUCER_FENCED);
    if (refused !== undefined) return refused;
    if (this.pending.has(transactionalId)) return KafkaError.CONCURRENT_TRANSACTIONS;
    switch (txn!.state) {
      case 'Ongoing': {
        const next: TxnMetadata = { ...txn!, state: commit ? 'PrepareCommit' : 'PrepareAbort', updateTimestamp: this.deps.clock.now() };
        const errorCode = await this.transition(txn!, next);
        if (errorCode === KafkaError.NONE) this.complete(next);
        return errorCode;
      }
      case 'CompleteCommit':
        return commit ? KafkaError.NONE : KafkaError.INVALID_TXN_STATE;
      case 'CompleteAbort':
        return commit ? KafkaError.INVALID_TXN_STATE : KafkaError.NONE;
      case 'PrepareCommit':
        return commit ? KafkaError.CONCURRENT_TRANSACTIONS : KafkaError.INVALID_TXN_STATE;
      case 'PrepareAbort':
        return commit ? KafkaError.INVALID_TXN_STATE : KafkaError.CONCURRENT_TRANSACTIONS;
      default:
        return KafkaError.INVALID_TXN_STATE;
    }
  }

  /**
   * Kafka's handleVerifyPartitionsInTransaction (AddPartitionsToTxn with verify_only): per partition NONE
   * when the producer's open transaction holds it, TRANSACTION_ABORTABLE when not; one error for all when
   * the id is not coordinated here, the producer is not the id's current one, or its transaction is ending.
   * Answered from memory.
   */
  verifyHere(transactionalId: string, producerId: number, producerEpoch: number, partitions: ReadonlyArray<{ topic: string; partition: number }>): KafkaErrorCode[] {
    const all = (errorCode: KafkaErrorCode): KafkaErrorCode[] => partitions.map(() => errorCode);
    if (transactionalId === '') return all(KafkaError.INVALID_REQUEST);
    const elsewhere = this.coordinatorError(transactionalId);
    if (elsewhere !== undefined) return all(elsewhere);
    const txn = this.log.get(transactionalId);
    const refused = this.producerRefusal(txn, producerId, producerEpoch, KafkaError.PRODUCER_FENCED);
    if (refused !== undefined) return all(refused);
    if (isPreparing(txn!.state)) return all(KafkaError.CONCURRENT_TRANSACTIONS);
    const held = this.partitionsOf(txn!);
    // A group added with AddOffsetsToTxn puts its __consumer_offsets partition in the transaction, as in Kafka.
    const holds = (p: { topic: string; partition: number }) =>
      held.has(partitionKey(p.topic, p.partition)) || (p.topic === OFFSETS_TOPIC && txn!.groups.some((group) => this.deps.offsets.partitionFor(group) === p.partition));
    return partitions.map((p) => (holds(p) ? KafkaError.NONE : KafkaError.TRANSACTION_ABORTABLE));
  }

  /**
   * What a partition leader learns before the producer's first transactional batch there: the answer of
   * the id's coordinator, at once when it is this broker, else over the replication listener, the
   * partitions of one turn in one question (a peer that cannot be reached is NETWORK_EXCEPTION, as Kafka's
   * AddPartitionsToTxnManager answers).
   */
  verify(transactionalId: string, producerId: number, producerEpoch: number, topic: string, partition: number): KafkaErrorCode | Promise<KafkaErrorCode> {
    const coordination = this.coordination(transactionalId);
    if (coordination.state !== 'elsewhere' || this.clustered === undefined || transactionalId === '') {
      return this.verifyHere(transactionalId, producerId, producerEpoch, [{ topic, partition }])[0]!;
    }
    return this.questions.ask(coordination.nodeId, transactionalId, producerId, producerEpoch, topic, partition);
  }

  /**
   * Kafka's WriteTxnMarkers at a partition leader (what Admin.abortTransaction sends for a hanging
   * transaction): each partition led here takes the marker, checked against the producer's epochs there
   * and written as a coordinator's marker is; per partition null once committed, else why not.
   */
  writeMarkersHere(request: MarkersRequest): Promise<MarkersResponse> {
    return this.deps.markers.writeHere(request);
  }

  /** The group's `topic\u0000partition` keys with an offset committed in a transaction not yet complete (Kafka's pending transactional offsets). */
  pendingOffsetKeys(group: string): Set<string> {
    const keys = new Set<string>();
    for (const txn of this.log.values()) {
      if (txn.state !== 'Ongoing' && !isPreparing(txn.state)) continue;
      for (const o of txn.offsets[group] ?? []) keys.add(partitionKey(o.topic, o.partition));
    }
    return keys;
  }

  /** Kafka's NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS / COORDINATOR_NOT_AVAILABLE for an id not served here now. */
  coordinatorError(transactionalId: string): KafkaErrorCode | undefined {
    return coordinatorErrorOf(this.coordination(transactionalId));
  }

  private owns(transactionalId: string): boolean {
    return this.clustered?.placement.owns(transactionalId) ?? true;
  }

  private producerRefusal(txn: TxnMetadata | undefined, producerId: number, producerEpoch: number, fenced: KafkaErrorCode): KafkaErrorCode | undefined {
    if (txn === undefined || txn.producerId !== producerId) return KafkaError.INVALID_PRODUCER_ID_MAPPING;
    if (txn.producerEpoch !== producerEpoch) return fenced;
    return undefined;
  }

  private partitionsOf(txn: TxnMetadata): Set<string> {
    let set = this.partitionSets.get(txn);
    if (set === undefined) this.partitionSets.set(txn, (set = new Set(txn.partitions)));
    return set;
  }

  private created(transactionalId: string, producerId: number, timeoutMs: number): TxnMetadata {
    return {
      transactionalId,
      producerId,
      previousProducerId: NO_PRODUCER_ID,
      producerEpoch: NO_PRODUCER_EPOCH,
      lastProducerEpoch: NO_PRODUCER_EPOCH,
      timeoutMs,
      state: 'Empty',
      partitions: [],
      groups: [],
      offsets: {},
      startTimestamp: -1,
      updateTimestamp: this.deps.clock.now(),
    };
  }

  /** Kafka's prepareIncrementProducerEpoch, or prepareProducerIdRotation once the epoch is exhausted; a number is the error. */
  private async nextEpoch(txn: TxnMetadata, timeoutMs: number, expected: { producerId: number; epoch: number } | undefined): Promise<TxnMetadata | KafkaErrorCode> {
    const reset = { state: 'Empty' as TxnState, timeoutMs, partitions: [], groups: [], offsets: {}, startTimestamp: -1, updateTimestamp: this.deps.clock.now() };
    if (isEpochExhausted(txn.producerEpoch) && (expected === undefined || expected.epoch === txn.producerEpoch)) {
      const producerId = await this.deps.producerIds.allocate();
      return { ...txn, ...reset, previousProducerId: txn.producerId, producerId, producerEpoch: 0, lastProducerEpoch: expected === undefined ? NO_PRODUCER_EPOCH : txn.producerEpoch };
    }
    const bumped = txn.producerEpoch + 1;
    if (expected === undefined) return { ...txn, ...reset, producerEpoch: bumped, lastProducerEpoch: NO_PRODUCER_EPOCH };
    if (txn.producerEpoch === NO_PRODUCER_EPOCH || expected.epoch === txn.producerEpoch) return { ...txn, ...reset, producerEpoch: bumped, lastProducerEpoch: txn.producerEpoch };
    // A retry of an InitProducerId whose answer was lost: the same epoch again.
    if (expected.epoch === txn.lastProducerEpoch) return { ...txn, ...reset };
    return KafkaError.PRODUCER_FENCED;
  }

  /** Kafka's prepareFenceProducerEpoch then an abort not from the client: the markers carry the bumped epoch. */
  private async fenceAndAbort(txn: TxnMetadata): Promise<KafkaErrorCode> {
    const next: TxnMetadata = { ...txn, producerEpoch: txn.producerEpoch + 1, lastProducerEpoch: NO_PRODUCER_EPOCH, state: 'PrepareAbort', updateTimestamp: this.deps.clock.now() };
    const errorCode = await this.write(next);
    if (errorCode === KafkaError.NONE) this.complete(next);
    return errorCode;
  }

  /** A client-driven transition: refused while another one is written. */
  private async transition(txn: TxnMetadata, next: TxnMetadata): Promise<KafkaErrorCode> {
    this.pending.add(txn.transactionalId);
    try {
      return await this.write(next);
    } finally {
      this.pending.delete(txn.transactionalId);
    }
  }

  /** Stores the new state; the answer is Kafka's for a failed append to the transaction log. */
  private async write(next: TxnMetadata): Promise<KafkaErrorCode> {
    try {
      await this.log.put(next.transactionalId, next);
      return KafkaError.NONE;
    } catch (err) {
      this.deps.logger.warn({ err, transactionalId: next.transactionalId, state: next.state }, 'writing transaction state failed');
      return this.owns(next.transactionalId) ? KafkaError.COORDINATOR_NOT_AVAILABLE : KafkaError.NOT_COORDINATOR;
    }
  }

  /**
   * Writes the markers of a Prepare* state, applies committed offsets, then stores Complete*; retried until
   * it succeeds, this broker stops coordinating the id, or a leader refuses a marker as stale (deposed).
   * A run that stopped because the id's partition was reloaded (a new coordinator epoch) starts again.
   */
  private complete(txn: TxnMetadata): void {
    const id = txn.transactionalId;
    if (this.completing.has(id)) return;
    const commit = txn.state === 'PrepareCommit';
    let deposed = false;
    const run = (async () => {
      // As Kafka, EndTxn is answered once Prepare* is stored and the markers come after: the answer is
      // written in this turn's microtasks, the markers in its check phase, before that client's next
      // request can be read.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.owns(id)) {
        try {
          await this.writeMarkers(txn, commit);
          await this.log.put(id, { ...txn, state: commit ? 'CompleteCommit' : 'CompleteAbort', partitions: [], groups: [], offsets: {}, updateTimestamp: this.deps.clock.now() });
          return;
        } catch (err) {
          if (this.closed || !this.owns(id)) return;
          if (BrokerError.is(err, 'TRANSACTION_COORDINATOR_FENCED') || BrokerError.is(err, 'INVALID_PRODUCER_EPOCH')) {
            // Kafka's TransactionMarkerRequestCompletionHandler: a newer coordinator or producer epoch has ended it; stop sending.
            this.deps.logger.info({ transactionalId: id, error: err.code }, 'a transaction marker was refused as stale; this coordinator stops completing the transaction');
            deposed = true;
            return;
          }
          this.deps.logger.warn({ err, transactionalId: id }, 'completing a transaction failed; retrying');
          await new Promise<void>((resolve) => this.deps.clock.setTimeout(resolve, RETRY_BACKOFF_MS));
        }
      }
    })().finally(() => {
      this.completing.delete(id);
      const current = this.log.get(id);
      if (!deposed && !this.closed && current !== undefined && isPreparing(current.state) && this.owns(id)) this.complete(current);
    });
    this.completing.set(id, run);
  }

  /**
   * One marker per partition of the transaction (a deleted topic has none to write), then on a single
   * node the offsets committed in it reach their groups; in a cluster each group's offsets partition
   * takes a marker too, which makes the offsets its coordinator holds for the producer visible.
   */
  private async writeMarkers(txn: TxnMetadata, commit: boolean): Promise<void> {
    if (this.clustered !== undefined) {
      const { placement } = this.clustered;
      const markers = this.deps.markers;
      const id = txn.transactionalId;
      const offsetsPartitions = new Set(txn.groups.map((group) => this.deps.offsets.partitionFor(group)));
      const partitions = [...txn.partitions.map(parsePartitionKey), ...[...offsetsPartitions].map((partition) => ({ topic: OFFSETS_TOPIC, partition }))];
      const request = { producerId: txn.producerId, producerEpoch: txn.producerEpoch, coordinatorEpoch: placement.coordinatorEpoch(id), commit, partitions };
      await markers.send(request, () => !this.closed && placement.owns(id) && placement.coordinatorEpoch(id) === request.coordinatorEpoch);
      return;
    }
    await this.writeLocalMarkers(txn, commit);
    if (commit) for (const [group, offsets] of Object.entries(txn.offsets)) await this.deps.offsets.commit(group, offsets);
  }

  private async writeLocalMarkers(txn: TxnMetadata, commit: boolean): Promise<void> {
    const type = commit ? ControlType.commit : ControlType.abort;
    const now = this.deps.clock.now();
    await Promise.all(
      txn.partitions.map(async (key) => {
        const { topic, partition } = parsePartitionKey(key);
        const log = this.deps.topics.log(topic, partition);
        if (log === undefined) return;
        await log.append(encodeTxnMarker(type, txn.producerId, txn.producerEpoch, COORDINATOR_EPOCH, now), { acks: 'all' });
      }),
    );
  }

  private startChecks(): void {
    this.every(this.deps.settings.abortTimedOutIntervalMs, () => this.abortTimedOut());
    this.every(this.deps.settings.removeExpiredIntervalMs, () => this.removeExpired());
  }

  private every(intervalMs: number, task: () => void): void {
    const slot = this.timers.length;
    const schedule = (): void => {
      if (this.closed) return;
      this.timers[slot] = this.deps.clock.setTimeout(() => {
        task();
        schedule();
      }, intervalMs);
    };
    schedule();
  }

  /**
   * Kafka's removeExpiredTransactionalIds: an id with no transaction under way whose last update is older
   * than transactional.id.expiration.ms is deleted from the log (a tombstone); its next InitProducerId gets
   * a new producer id.
   */
  private removeExpired(): void {
    const horizon = this.deps.clock.now() - this.deps.settings.idExpirationMs;
    for (const txn of [...this.log.values()]) {
      const ended = txn.state === 'Empty' || txn.state === 'CompleteCommit' || txn.state === 'CompleteAbort';
      if (!ended || txn.updateTimestamp > horizon || this.pending.has(txn.transactionalId)) continue;
      const id = txn.transactionalId;
      this.pending.add(id);
      this.log
        .delete(id)
        .then(() => this.deps.logger.info({ transactionalId: id, producerId: txn.producerId }, 'transactional id expired'))
        .catch((err: unknown) => this.deps.logger.warn({ err, transactionalId: id }, 'expiring a transactional id failed'))
        .finally(() => this.pending.delete(id));
    }
  }

  /** Kafka's abortTimedOutTransactions: open transactions past their timeout are aborted under a bumped epoch. */
  private abortTimedOut(): void {
    const now = this.deps.clock.now();
    for (const txn of this.log.values()) {
      if (txn.state !== 'Ongoing' || txn.startTimestamp + txn.timeoutMs >= now || this.pending.has(txn.transactionalId)) continue;
      this.deps.logger.info({ transactionalId: txn.transactionalId, producerId: txn.producerId, timeoutMs: txn.timeoutMs }, 'aborting a transaction past its timeout');
      this.pending.add(txn.transactionalId);
      void this.fenceAndAbort(txn).finally(() => this.pending.delete(txn.transactionalId));
    }
  }
}

const HERE: Coordination = { state: 'here' };

/** Kafka's isValidProducerId for an InitProducerId that names the producer it had (KIP-360). */
function validExpectedProducer(txn: TxnMetadata, expected: { producerId: number; epoch: number }): boolean {
  return txn.producerEpoch === NO_PRODUCER_EPOCH || expected.producerId === txn.producerId || (expected.producerId === txn.previousProducerId && isEpochExhausted(expected.epoch));
}
