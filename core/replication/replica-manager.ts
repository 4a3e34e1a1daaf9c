import net from 'node:net';
import { inject, injectable } from 'inversify';
import { firstEventOrTimeout, type Clock, type Timer } from '../clock.ts';
import type { Cluster } from '../cluster/cluster.ts';
import type { CoordinatedCluster } from '../cluster/coordinated-cluster.ts';
import type { BrokerConfig } from '../config.ts';
import type { ErrorCode } from '../errors.ts';
import type { Logger } from '../logging.ts';
import type { ConnectionBudget } from '../net/connection-budget.ts';
import type { ListenerRegistry } from '../net/listener-registry.ts';
import { TcpListener } from '../net/tcp-listener.ts';
import { TOKENS } from '../tokens.ts';
import type { TopicRegistry } from '../topics/topic-registry.ts';
import type { ClusterReplicator } from './cluster-replicator.ts';
import { PartitionReplica } from './partition-replica.ts';
import { ReplicaFetcher } from './replica-fetcher.ts';
import { ReplicationConnection, type Peer, type ReplicationService } from './replication-server.ts';
import type { FetchedPartition, FetchRequest, FetchResponse, MarkersRequest, MarkersResponse, VerifyRequest, VerifyResponse } from './replication-protocol.ts';
import type { TxnMarkerChannel } from './txn-marker-channel.ts';

const HANDOVER_TIMEOUT_MS = 5000;

/**
 * Cluster mode's replicas on this broker: one PartitionReplica per hosted partition of a cluster
 * topic, whose role follows the partition state; a fetcher per leader this broker follows; the
 * replication listener leaders serve followers on; the periodic ISR check; and the hand-over of
 * leaderships when the broker shuts down.
 */
@injectable()
export class ReplicaManager implements ReplicationService {
  private readonly replicas = new Map<string, PartitionReplica>();
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private listener: TcpListener | undefined;
  private lagTimer: Timer | undefined;
  private readonly unsubscribe: Array<() => void> = [];
  private stopped = false;
  private readonly logger: Logger;

  constructor(
    @inject(TOKENS.Cluster) cluster: Cluster,
    @inject(TOKENS.Replicator) private readonly replicator: ClusterReplicator,
    @inject(TOKENS.TopicRegistry) private readonly topics: TopicRegistry,
    @inject(TOKENS.ListenerRegistry) private readonly registry: ListenerRegistry,
    @inject(TOKENS.ConnectionBudget) private readonly budget: ConnectionBudget,
    @inject(TOKENS.Config) private readonly config: BrokerConfig,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Logger) logger: Logger,
    @inject(TOKENS.TxnMarkers) private readonly markers: TxnMarkerChannel,
  ) {
    this.cluster = cluster as CoordinatedCluster;
    this.logger = logger.child({ component: 'replication' });
  }

  private readonly cluster: CoordinatedCluster;

  async start(): Promise<void> {
    const listener = new TcpListener({
      protocol: 'replication',
      host: this.config.host,
      port: this.config.replication.port,
      maxConnections: 1000,
      budget: this.budget,
      idleTimeoutMs: 0,
      logger: this.logger,
      registry: this.registry,
    });
    await listener.start((socket, _id, logger) => new ReplicationConnection(socket, this, logger));
    this.listener = listener;
    const port = this.registry.port('replication')!;
    await this.cluster.advertise('replication', { host: advertisedHost(this.config.host), port });
    this.unsubscribe.push(
      this.cluster.onChange((change) => {
        for (const { topic, partition } of change.partitions) this.reconcile(topic, partition);
      }),
      this.cluster.session.onEvent(() => this.reconcileAll()),
      this.topics.onChange((event) => {
        if (event.type === 'deleted') this.forgetTopic(event.topic.name);
        else for (let p = 0; p < event.topic.partitions; p++) this.reconcile(event.topic.name, p);
      }),
    );
    this.reconcileAll();
    this.scheduleLagCheck();
  }

  /** Controlled shutdown, first step: moves every leadership this broker holds to another in-sync replica. */
  async handOverLeaderships(): Promise<void> {
    const leading = [...this.replicas.values()].filter((r) => r.leading);
    if (leading.length === 0) return;
    const deadline = this.clock.monotonic() + HANDOVER_TIMEOUT_MS;
    let pending = leading;
    while (pending.length > 0 && this.clock.monotonic() < deadline) {
      const moved = await Promise.all(pending.map((r) => r.handOver().catch(() => false)));
      pending = pending.filter((r, i) => !moved[i] && r.leading && r.state.isr.length > 1);
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.logger.info({ handedOver: leading.length - pending.length, kept: pending.length }, 'leaderships handed over for shutdown');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.markers.stop();
    this.lagTimer?.cancel();
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    await Promise.all([...this.fetchers.values()].map((f) => f.stop()));
    this.fetchers.clear();
    await this.listener?.stop(0);
    for (const replica of this.replicas.values()) this.replicator.detach(replica.log);
    this.replicas.clear();
  }

  async admit(clusterId: string, peer: Peer): Promise<{ error: ErrorCode; message: string } | undefined> {
    if (clusterId !== (await this.cluster.clusterId())) return { error: 'BROKER_STATE', message: `cluster ${clusterId} is not this cluster` };
    const registered = this.cluster.state.brokers.get(peer.nodeId);
    if (!registered) return { error: 'BROKER_STATE', message: `broker ${peer.nodeId} is not a live member` };
    if (registered.epoch !== peer.brokerEpoch) return { error: 'BROKER_STATE', message: `broker ${peer.nodeId} epoch ${peer.brokerEpoch} is not its current ${registered.epoch}` };
    return undefined;
  }

  async serveFetch(peer: Peer, request: FetchRequest): Promise<FetchResponse> {
    const serve = async (): Promise<FetchedPartition[]> => {
      let budget = request.maxBytes;
      const out: FetchedPartition[] = [];
      for (const p of request.partitions) {
        const replica = this.replicas.get(key(p.topic, p.partition));
        if (!replica) {
          out.push({ topic: p.topic, partition: p.partition, error: 'NOT_LEADER', highWatermark: -1, logStartOffset: -1, diverging: null, records: EMPTY });
          continue;
        }
        const fetched = await replica.serveFetch(peer.nodeId, peer.brokerEpoch, p, Math.max(1, Math.min(PARTITION_MAX_BYTES, budget)));
        budget -= fetched.records.length;
        out.push(fetched);
      }
      return out;
    };
    let partitions = await serve();
    const idle = partitions.every((p) => p.error === null && p.diverging === null && p.records.length === 0);
    if (idle && request.maxWaitMs > 0 && !this.stopped) {
      await this.appendOrTimeout(request, Math.min(request.maxWaitMs, 30_000));
      partitions = await serve();
    }
    return { partitions };
  }

  serveMarkers(_peer: Peer, request: MarkersRequest): Promise<MarkersResponse> {
    return this.markers.writeHere(request);
  }

  serveVerify(_peer: Peer, request: VerifyRequest): Promise<VerifyResponse> {
    return this.markers.verifyHere(request);
  }

  private appendOrTimeout(request: FetchRequest, ms: number): Promise<void> {
    const replicas = request.partitions.flatMap((p) => this.replicas.get(key(p.topic, p.partition)) ?? []);
    return firstEventOrTimeout(this.clock, ms, replicas.map((replica) => (wake) => replica.onAppend(wake)));
  }

  private reconcileAll(): void {
    for (const [topic] of this.cluster.state.topics) {
      for (const [partition] of this.cluster.state.partitionsOf(topic) ?? []) this.reconcile(topic, partition);
    }
  }

  private reconcile(topic: string, partition: number): void {
    if (this.stopped) return;
    const id = key(topic, partition);
    const state = this.cluster.partitionState(topic, partition);
    const log = this.topics.replicaLog(topic, partition);
    let replica = this.replicas.get(id);
    if (replica && (!state || !log || replica.log !== log)) {
      this.forget(id, replica);
      replica = undefined;
    }
    if (!state || !log || !state.replicas.includes(this.cluster.nodeId)) return;
    if (!replica) {
      replica = new PartitionReplica(log, state, this.cluster, this.clock, this.logger, (r) => this.placeFetch(r));
      this.replicas.set(id, replica);
      this.replicator.attach(replica);
    }
    void replica.update(state);
  }

  private forgetTopic(topic: string): void {
    for (const [id, replica] of this.replicas) if (replica.topic === topic) this.forget(id, replica);
  }

  private forget(id: string, replica: PartitionReplica): void {
    this.replicas.delete(id);
    this.replicator.detach(replica.log);
    for (const fetcher of this.fetchers.values()) fetcher.remove(replica);
    void replica.update({ ...replica.state, leader: -1 });
  }

  /** Keeps a replica in the fetcher of the leader it follows, and in no other. */
  private placeFetch(replica: PartitionReplica): void {
    for (const [leader, fetcher] of this.fetchers) if (leader !== replica.leaderId || replica.role !== 'follower') fetcher.remove(replica);
    if (replica.role !== 'follower' || this.stopped || !this.replicas.has(key(replica.topic, replica.partition))) return;
    let fetcher = this.fetchers.get(replica.leaderId);
    if (!fetcher) {
      fetcher = new ReplicaFetcher(replica.leaderId, this.cluster, { fetchMaxWaitMs: this.config.replication.fetchMaxWaitMs, localAddress: sourceAddress(this.config.host) }, this.logger);
      this.fetchers.set(replica.leaderId, fetcher);
    }
    fetcher.add(replica);
  }

  private scheduleLagCheck(): void {
    const every = Math.max(10, Math.floor(this.config.replication.lagMaxMs / 2));
    this.lagTimer = this.clock.setTimeout(() => {
      for (const replica of this.replicas.values()) replica.checkLaggingFollowers(this.config.replication.lagMaxMs);
      if (!this.stopped) this.scheduleLagCheck();
    }, every);
  }
}

const PARTITION_MAX_BYTES = 4 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** The address other brokers dial: loopback when bound to localhost or a wildcard. */
export function advertisedHost(host: string): string {
  return host === 'localhost' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

/** A broker bound to one IP address connects to its peers from it too (multi-homed hosts, per-address firewall rules); else the kernel picks. */
export function sourceAddress(host: string): string | undefined {
  return net.isIP(host) !== 0 && host !== '0.0.0.0' && host !== '::' ? host : undefined;
}
