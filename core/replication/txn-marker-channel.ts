import { inject, injectable } from 'inversify';
import type { Clock } from '../clock.ts';
import type { Cluster } from '../cluster/cluster.ts';
import type { CoordinatedCluster } from '../cluster/coordinated-cluster.ts';
import type { BrokerConfig } from '../config.ts';
import { BrokerError, type ErrorCode } from '../errors.ts';
import { OFFSETS_TOPIC, type OffsetStore } from '../groups/offset-store.ts';
import type { Logger } from '../logging.ts';
import { ControlType, encodeTxnMarker } from '../record/index.ts';
import { TOKENS } from '../tokens.ts';
import type { TopicRegistry } from '../topics/topic-registry.ts';
import { PeerConnection } from './peer-connection.ts';
import type { MarkersRequest, MarkersResponse, VerifyRequest, VerifyResponse } from './replication-protocol.ts';
import { sourceAddress } from './replica-manager.ts';

const RETRY_BACKOFF_MS = 100;
const MAX_RETRY_BACKOFF_MS = 1000;
const RESPONSE_TIMEOUT_MS = 30_000;
/** Kafka's request.timeout.ms for the leader's verification request to the coordinator. */
const VERIFY_TIMEOUT_MS = 30_000;

/** Answers, where transactions are coordinated, whether partitions are in a producer's transaction. */
export type TxnVerifier = (request: VerifyRequest) => VerifyResponse | Promise<VerifyResponse>;

type MarkerPartition = MarkersRequest['partitions'][number];

/**
 * Transaction markers (Kafka's TransactionMarkerChannelManager and the broker side of WriteTxnMarkers;
 * on a single node only `writeHere`, for the Kafka API): a transaction coordinator hands it one producer's commit or abort for a set of
 * partitions; each marker is written by the partition's leader, here or on a peer over the replication
 * listener, and retried (the leader looked up again) until that leader has committed it. A marker for a
 * `__consumer_offsets` partition is taken by the offset store there: the producer's pending offsets
 * become the group's, or are dropped. It also carries partition verification (KIP-890): a leader asks
 * the coordinator, over its own connections so as not to wait behind markers, whether a producer's
 * transaction holds a partition; the protocol that coordinates transactions answers (`serveVerification`).
 */
@injectable()
export class TxnMarkerChannel {
  private readonly connections = new Map<number, Promise<PeerConnection>>();
  private readonly queues = new Map<number, Promise<unknown>>();
  private readonly verifyConnections = new Map<number, Promise<PeerConnection>>();
  private readonly verifyQueues = new Map<number, Promise<unknown>>();
  private verifier: TxnVerifier | undefined;
  private readonly cluster: CoordinatedCluster;
  private stopped = false;

  constructor(
    @inject(TOKENS.Cluster) cluster: Cluster,
    @inject(TOKENS.TopicRegistry) private readonly topics: TopicRegistry,
    @inject(TOKENS.OffsetStore) private readonly offsets: OffsetStore,
    @inject(TOKENS.Config) private readonly config: BrokerConfig,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {
    this.cluster = cluster as CoordinatedCluster;
  }

  /**
   * Resolves once every partition's leader has committed the marker (a partition whose topic is gone
   * takes none). Retries until then; rejects with NOT_COORDINATOR once `stillCoordinating` says the
   * caller has lost the right to complete the transaction, and with TRANSACTION_COORDINATOR_FENCED or
   * INVALID_PRODUCER_EPOCH when a leader refuses the marker as stale (a newer coordinator or producer
   * epoch wrote one there): the sender is deposed and stops, as Kafka's marker completion handler.
   */
  async send(request: MarkersRequest, stillCoordinating: () => boolean): Promise<void> {
    let remaining = request.partitions.filter((p) => this.exists(p));
    for (let attempt = 1; remaining.length > 0; attempt++) {
      if (this.stopped || !stillCoordinating()) throw new BrokerError('NOT_COORDINATOR', 'no longer coordinating the transaction');
      const byLeader = new Map<number, MarkerPartition[]>();
      const failed: MarkerPartition[] = [];
      for (const p of remaining) {
        const leader = this.cluster.partitionState(p.topic, p.partition)?.leader ?? -1;
        if (leader < 0) failed.push(p);
        else if (byLeader.has(leader)) byLeader.get(leader)!.push(p);
        else byLeader.set(leader, [p]);
      }
      let fenced: ErrorCode | undefined;
      await Promise.all(
        [...byLeader].map(async ([leader, partitions]) => {
          const part = { ...request, partitions };
          const errors = await this.writeAt(leader, part);
          partitions.forEach((p, i) => {
            const error = errors[i] ?? null;
            if (error === null || error === 'TOPIC_NOT_FOUND' || !this.exists(p)) return;
            if (error === 'TRANSACTION_COORDINATOR_FENCED' || error === 'INVALID_PRODUCER_EPOCH') {
              fenced = error;
              return;
            }
            failed.push(p);
            if (attempt === 1 || attempt % 20 === 0) this.logger.warn({ topic: p.topic, partition: p.partition, leader, error, attempt }, 'transaction marker not written yet; retrying');
          });
        }),
      );
      if (fenced !== undefined) throw new BrokerError(fenced, `a leader refused producer ${request.producerId}'s marker of epoch ${request.producerEpoch} under coordinator epoch ${request.coordinatorEpoch} as stale`);
      remaining = failed;
      if (remaining.length > 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, Math.min(MAX_RETRY_BACKOFF_MS, RETRY_BACKOFF_MS * attempt)));
    }
  }

  /** The leader side: writes the markers of the partitions led here; per partition, null once committed. */
  async writeHere(request: MarkersRequest): Promise<MarkersResponse> {
    const errors = await Promise.all(request.partitions.map((p) => this.writeOne(request, p)));
    return { errors };
  }

  /** Sets who answers verifications here (the transaction coordinator of the protocol that has one). */
  serveVerification(verifier: TxnVerifier): void {
    this.verifier = verifier;
  }

  /** The coordinator side; NOT_SUPPORTED where no protocol coordinates transactions. */
  async verifyHere(request: VerifyRequest): Promise<VerifyResponse> {
    if (!this.verifier) throw new BrokerError('NOT_SUPPORTED', 'no transaction coordinator on this broker answers verifications');
    return this.verifier(request);
  }

  /**
   * The leader side: asks the coordinator on broker `nodeId` (this one included). Rejects when the peer
   * cannot be reached or does not answer in time (Kafka's NETWORK_EXCEPTION for the verification).
   */
  async verify(nodeId: number, request: VerifyRequest): Promise<VerifyResponse> {
    if (this.stopped) throw new BrokerError('BROKER_STATE', 'the broker is stopping');
    if (nodeId === this.cluster.nodeId) return this.verifyHere(request);
    return this.serialized(this.verifyQueues, nodeId, async () => {
      try {
        const connection = await this.connect(this.verifyConnections, nodeId);
        return await connection.verify(request, VERIFY_TIMEOUT_MS);
      } catch (err) {
        this.verifyConnections.delete(nodeId);
        throw err;
      }
    });
  }

  stop(): void {
    this.stopped = true;
    for (const pool of [this.connections, this.verifyConnections]) {
      for (const connection of pool.values()) void connection.then((c) => c.close(), () => undefined);
      pool.clear();
    }
  }

  private async writeOne(request: MarkersRequest, p: MarkerPartition): Promise<ErrorCode | null> {
    try {
      if (!this.exists(p)) return 'TOPIC_NOT_FOUND';
      if (p.topic === OFFSETS_TOPIC) {
        await this.offsets.completeTransaction(p.partition, request);
        return null;
      }
      const log = this.cluster.leads(p.topic, p.partition) ? this.topics.log(p.topic, p.partition) : undefined;
      if (!log) return 'NOT_LEADER';
      // Checked and appended in one turn, so no other marker of the producer comes between.
      const stale = log.producerState.checkMarker(request.producerId, request.producerEpoch, request.coordinatorEpoch);
      if (stale) return stale.code;
      const type = request.commit ? ControlType.commit : ControlType.abort;
      await log.append(encodeTxnMarker(type, request.producerId, request.producerEpoch, request.coordinatorEpoch, this.clock.now()), { acks: 'all' });
      return null;
    } catch (err) {
      return BrokerError.is(err) ? err.code : 'STORAGE_IO';
    }
  }

  /** One request at a time per peer (its connection answers in order). */
  private writeAt(leader: number, request: MarkersRequest): Promise<ReadonlyArray<ErrorCode | null>> {
    if (leader === this.cluster.nodeId) return this.writeHere(request).then((r) => r.errors);
    return this.serialized(this.queues, leader, () => this.callPeer(leader, request));
  }

  private serialized<T>(queues: Map<number, Promise<unknown>>, nodeId: number, call: () => Promise<T>): Promise<T> {
    const previous = queues.get(nodeId) ?? Promise.resolve();
    const next = previous.then(call, call);
    queues.set(nodeId, next);
    return next;
  }

  private async callPeer(leader: number, request: MarkersRequest): Promise<ReadonlyArray<ErrorCode | null>> {
    try {
      const connection = await this.connect(this.connections, leader);
      return (await connection.markers(request, RESPONSE_TIMEOUT_MS)).errors;
    } catch (err) {
      this.connections.delete(leader);
      return request.partitions.map(() => (BrokerError.is(err) ? err.code : 'LEADER_NOT_AVAILABLE'));
    }
  }

  private connect(pool: Map<number, Promise<PeerConnection>>, nodeId: number): Promise<PeerConnection> {
    const existing = pool.get(nodeId);
    if (existing) {
      return existing.then((c) => {
        if (c.open) return c;
        pool.delete(nodeId);
        return this.connect(pool, nodeId);
      });
    }
    const opening = (async () => {
      const endpoint = this.cluster.state.brokers.get(nodeId)?.endpoints.replication;
      if (!endpoint) throw new BrokerError('LEADER_NOT_AVAILABLE', `broker ${nodeId} has no replication endpoint registered`);
      const connection = await PeerConnection.open(endpoint.host, endpoint.port, sourceAddress(this.config.host));
      try {
        await connection.hello(await this.cluster.clusterId(), this.cluster.nodeId, this.cluster.session.epoch);
      } catch (err) {
        connection.close();
        throw err;
      }
      return connection;
    })();
    opening.catch(() => pool.delete(nodeId));
    pool.set(nodeId, opening);
    return opening;
  }

  private exists(p: MarkerPartition): boolean {
    const topic = this.topics.get(p.topic);
    return topic !== undefined && p.partition >= 0 && p.partition < topic.partitions;
  }
}
