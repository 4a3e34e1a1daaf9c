import { BrokerError, LeaderShards, type Clock, type Cluster, type Coordination, type Logger, type MetadataLog, type TopicRegistry } from '../../../core/index.ts';
import type { TxnMetadata } from './transaction-metadata.ts';

/** Kafka's name for the transaction log, so tools recognise it; an internal topic clients do not see. */
export const TRANSACTION_STATE_TOPIC = '__transaction_state';

/** Where the transaction coordinator keeps its state: get, list, and durable writes of each id's metadata. */
export interface TxnStore {
  get(transactionalId: string): TxnMetadata | undefined;
  values(): IterableIterator<TxnMetadata>;
  put(transactionalId: string, txn: TxnMetadata): Promise<void>;
  delete(transactionalId: string): Promise<void>;
}

/** Cluster mode: which transactional ids this broker coordinates, and under which coordinator epoch. */
export interface TxnPlacement {
  coordination(transactionalId: string): Coordination;
  /** Whether this broker still coordinates the id (a completion under way stops when not). */
  owns(transactionalId: string): boolean;
  /** Kafka's coordinator epoch: the leader epoch of the id's transaction log partition when this broker loaded it; -1 when it has not. */
  coordinatorEpoch(transactionalId: string): number;
}

/**
 * Cluster mode's transaction log (Kafka's __transaction_state): a replicated compacted topic whose
 * partition abs(hash(id)) % N holds the id's state; the leader of that partition coordinates the id.
 * A write resolves once committed by the in-sync replicas (acks=all). `onLoaded` hears each partition
 * this broker comes to lead, with its transactions, so the ones left half-ended are completed.
 */
export class TransactionStateTopic implements TxnStore, TxnPlacement {
  private readonly shards: LeaderShards<TxnMetadata>;
  onLoaded: (txns: Iterable<TxnMetadata>) => void = () => undefined;

  /** `replication`: transaction.state.log.replication.factor and transaction.state.log.min.isr. */
  constructor(cluster: Cluster, topics: TopicRegistry, partitions: number, replication: { factor: number; minInsyncReplicas: number }, clock: Clock, logger: Logger) {
    this.shards = new LeaderShards<TxnMetadata>(cluster, topics, clock, logger, {
      topic: TRANSACTION_STATE_TOPIC,
      partitions,
      replication,
      loaded: (_partition, log) => this.onLoaded(log.values()),
      unloaded: () => undefined,
    });
  }

  open(): void {
    this.shards.open();
  }

  close(): void {
    this.shards.close();
  }

  get(transactionalId: string): TxnMetadata | undefined {
    return this.shardOf(transactionalId)?.get(transactionalId);
  }

  *values(): IterableIterator<TxnMetadata> {
    for (const [, log] of this.shards.loaded()) yield* log.values();
  }

  put(transactionalId: string, txn: TxnMetadata): Promise<void> {
    return this.ownedShard(transactionalId).put(transactionalId, txn);
  }

  delete(transactionalId: string): Promise<void> {
    return this.ownedShard(transactionalId).delete(transactionalId);
  }

  coordination(transactionalId: string): Coordination {
    return this.shards.coordination(this.shards.partitionFor(transactionalId));
  }

  owns(transactionalId: string): boolean {
    return this.coordination(transactionalId).state === 'here';
  }

  coordinatorEpoch(transactionalId: string): number {
    return this.shards.epoch(this.shards.partitionFor(transactionalId));
  }

  private shardOf(transactionalId: string): MetadataLog<TxnMetadata> | undefined {
    return this.shards.shard(this.shards.partitionFor(transactionalId));
  }

  private ownedShard(transactionalId: string): MetadataLog<TxnMetadata> {
    const shard = this.owns(transactionalId) ? this.shardOf(transactionalId) : undefined;
    if (!shard) throw new BrokerError('NOT_COORDINATOR', `this broker does not coordinate transactional id ${transactionalId}`);
    return shard;
  }
}
