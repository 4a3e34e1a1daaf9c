import type { KafkaContext } from './kafka-context.ts';

interface NodeEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/**
 * KIP-951 (Produce v10+, Fetch v16+): a partition answered NOT_LEADER_OR_FOLLOWER (Fetch: also
 * FENCED_LEADER_EPOCH) carries its current leader and epoch (-1 when unknown), and the response lists where
 * those leaders are on the client's listener, so the client retries there without a metadata round trip.
 */
export class CurrentLeaders {
  private readonly leaders = new Set<number>();

  constructor(
    private readonly ctx: KafkaContext,
    private readonly listener: string,
  ) {}

  of(topic: string, partition: number): { leaderId: number; leaderEpoch: number } {
    const state = this.ctx.cluster.partitionState(topic, partition);
    if (state && state.leader >= 0) this.leaders.add(state.leader);
    return { leaderId: state?.leader ?? -1, leaderEpoch: state?.leaderEpoch ?? -1 };
  }

  /** Where the leaders named so far are. */
  endpoints(): NodeEndpoint[] {
    return [...this.leaders].flatMap((nodeId) => {
      const endpoint = this.ctx.endpoint(nodeId, this.listener);
      return endpoint ? [{ nodeId, host: endpoint.host, port: endpoint.port, rack: null }] : [];
    });
  }
}
