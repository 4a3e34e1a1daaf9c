import type { CoordinatedCluster } from '../cluster/coordinated-cluster.ts';
import { BrokerError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import type { PartitionReplica } from './partition-replica.ts';
import { PeerConnection } from './peer-connection.ts';
import type { FetchRequest } from './replication-protocol.ts';

const FETCH_MAX_BYTES = 16 * 1024 * 1024;
const BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 1000;
const RESPONSE_GRACE_MS = 10_000;

export interface FetcherSettings {
  readonly fetchMaxWaitMs: number;
  /** The source address of replication connections: the broker's own `--host` when that is one IP address. */
  readonly localAddress?: string;
}

/**
 * A follower's fetch loop towards one leader broker: one request at a time covering every partition
 * this broker follows there; each response's batches are appended (and synced, under flush=always)
 * before the next request, so the offset a fetch names is durable here — which is what lets the leader
 * count it towards the high watermark.
 */
export class ReplicaFetcher {
  private readonly replicas = new Set<PartitionReplica>();
  private connection: PeerConnection | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;

  constructor(
    readonly leaderId: number,
    private readonly cluster: CoordinatedCluster,
    private readonly settings: FetcherSettings,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.replicas.size;
  }

  add(replica: PartitionReplica): void {
    this.replicas.add(replica);
    this.running ??= this.loop();
    this.wake?.();
  }

  remove(replica: PartitionReplica): void {
    this.replicas.delete(replica);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.connection?.close();
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.replicas.size === 0) {
        await this.pause(60_000);
        continue;
      }
      try {
        const connection = await this.connect();
        const pairs = [...this.replicas].map((replica) => ({ replica, request: replica.fetchRequest() }));
        const request: FetchRequest = {
          replicaId: this.cluster.nodeId,
          brokerEpoch: this.cluster.session.epoch,
          maxWaitMs: this.settings.fetchMaxWaitMs,
          maxBytes: FETCH_MAX_BYTES,
          partitions: pairs.map((p) => p.request),
        };
        const response = await connection.fetch(request, this.settings.fetchMaxWaitMs + RESPONSE_GRACE_MS);
        if (response.partitions.length !== pairs.length) throw new BrokerError('MALFORMED_INPUT', 'fetch response partitions do not match the request');
        const backoffs = await Promise.all(
          response.partitions.map((fetched, i) => {
            const { replica, request: asked } = pairs[i]!;
            if (fetched.topic !== asked.topic || fetched.partition !== asked.partition) throw new BrokerError('MALFORMED_INPUT', 'fetch response out of order');
            return replica.applyFetched(asked, fetched);
          }),
        );
        this.failures = 0;
        if (backoffs.every(Boolean)) await this.pause(BACKOFF_MS);
      } catch (err) {
        if (this.stopped) break;
        this.failures++;
        if (this.failures === 1 || this.failures % 50 === 0) {
          this.logger.warn({ leader: this.leaderId, err: (err as Error).message, failures: this.failures }, 'replica fetch failed; retrying');
        }
        this.connection?.close();
        this.connection = undefined;
        await this.pause(Math.min(MAX_BACKOFF_MS, BACKOFF_MS * this.failures));
      }
    }
    this.connection?.close();
  }

  private async connect(): Promise<PeerConnection> {
    if (this.connection?.open) return this.connection;
    const endpoint = this.cluster.state.brokers.get(this.leaderId)?.endpoints.replication;
    if (!endpoint) throw new BrokerError('LEADER_NOT_AVAILABLE', `broker ${this.leaderId} has no replication endpoint registered`);
    const connection = await PeerConnection.open(endpoint.host, endpoint.port, this.settings.localAddress);
    try {
      await connection.hello(await this.cluster.clusterId(), this.cluster.nodeId, this.cluster.session.epoch);
    } catch (err) {
      connection.close();
      throw err;
    }
    this.connection = connection;
    return connection;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}
