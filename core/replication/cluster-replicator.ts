import { inject, injectable } from 'inversify';
import type { CoordinatedCluster } from '../cluster/coordinated-cluster.ts';
import { BrokerError } from '../errors.ts';
import { TOKENS } from '../tokens.ts';
import type { Acks } from '../storage/partition-log.ts';
import type { PartitionReplica } from './partition-replica.ts';
import type { ReplicaLog, Replicator } from './replicator.ts';
import { SingleNodeReplicator } from './single-node-replicator.ts';

/**
 * Cluster mode: a replicated partition's append is committed once the in-sync replicas hold it (the
 * high watermark passes it); only its leader takes appends. Node-local logs (a protocol's own queues,
 * internal metadata) commit as on a single node.
 */
@injectable()
export class ClusterReplicator implements Replicator {
  readonly name = 'cluster';
  private readonly replicas = new Map<ReplicaLog, PartitionReplica>();
  private readonly local = new SingleNodeReplicator();

  constructor(@inject(TOKENS.Cluster) private readonly cluster: CoordinatedCluster) {}

  attach(replica: PartitionReplica): void {
    this.replicas.set(replica.log, replica);
  }

  detach(log: ReplicaLog): void {
    this.replicas.delete(log);
  }

  checkAppend(log: ReplicaLog, acks: Acks): BrokerError | undefined {
    const replica = this.replicas.get(log);
    if (replica) return replica.checkAppend(acks);
    if (this.cluster.state.topics.has(log.topic)) return new BrokerError('NOT_LEADER', `${log.topic}-${log.partition} is not ready to lead here`);
    return this.local.checkAppend(log, acks);
  }

  commit(log: ReplicaLog, endOffset: number, acks: Acks): Promise<void> {
    const replica = this.replicas.get(log);
    return replica ? replica.commit(endOffset, acks) : this.local.commit(log, endOffset, acks);
  }
}
