import { firstEventOrTimeout } from '../../../core/index.ts';
import type { ElectLeadersRequest, ElectLeadersResponse, ElectLeadersResponsePartitionResult } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';
import { CLUSTER_NAME } from '../security/acl-codes.ts';

const PREFERRED = 0;
const UNCLEAN = 1;

/**
 * ElectLeaders (KIP-183/KIP-460), with ALTER on the cluster. On a single node this broker is every
 * partition's only and preferred replica: ELECTION_NOT_NEEDED. In a cluster a partition led by its
 * preferred replica (the first) needs nothing, one whose preferred replica is out of sync gets
 * PREFERRED_LEADER_NOT_AVAILABLE, and the others wait, up to the request's timeout, for the controller's
 * preferred-leader rebalance (core moves leadership only there) to move it: NONE, else REQUEST_TIMED_OUT.
 * Unclean elections are Kafka's answer for a partition that has a leader (ELECTION_NOT_NEEDED) or not
 * (ELIGIBLE_LEADERS_NOT_AVAILABLE: core elects out-of-sync replicas only by its own configuration).
 * Asked for every partition (null), the answer leaves out those that needed no election, as Kafka.
 */
export const handleElectLeaders: Handler<ElectLeadersRequest, ElectLeadersResponse> = async (ctx, request, header, connection) => {
  const electionType = header.apiVersion >= 1 ? request.electionType : PREFERRED;
  const all = request.topicPartitions === null;
  if (!connection.session.allows('alter', 'cluster', CLUSTER_NAME)) {
    // As Kafka's error response: each partition named gets the error (none when every partition was asked for).
    const refused = KafkaError.CLUSTER_AUTHORIZATION_FAILED;
    return respond(refused, (request.topicPartitions ?? []).map((t) => ({ topic: t.topic, partitionResult: t.partitions.map((partitionId) => ({ partitionId, errorCode: refused, errorMessage: null })) })));
  }
  const wanted = all
    ? ctx.topics.list().flatMap((t) => (ctx.visibleTopic(t.name) ? [{ topic: t.name, partitions: Array.from({ length: t.partitions }, (_, i) => i) }] : []))
    : request.topicPartitions!;
  const deadline = ctx.clock.now() + Math.max(0, request.timeoutMs);
  const results = await Promise.all(
    wanted.map(async (t) => ({
      topic: t.topic,
      partitionResult: (await Promise.all(t.partitions.map((partitionId) => elect(ctx, t.topic, partitionId, electionType, deadline)))).filter(
        (r) => !all || r.errorCode !== KafkaError.ELECTION_NOT_NEEDED,
      ),
    })),
  );
  return respond(KafkaError.NONE, results.filter((r) => !all || r.partitionResult.length > 0));
};

function respond(errorCode: number, replicaElectionResults: ElectLeadersResponse['replicaElectionResults']): ElectLeadersResponse {
  return { throttleTimeMs: 0, errorCode, replicaElectionResults };
}

async function elect(ctx: KafkaContext, topic: string, partitionId: number, electionType: number, deadline: number): Promise<ElectLeadersResponsePartitionResult> {
  const result = (errorCode: number, errorMessage: string | null = null) => ({ partitionId, errorCode, errorMessage });
  const descriptor = ctx.visibleTopic(topic);
  if (!descriptor || partitionId < 0 || partitionId >= descriptor.partitions) return result(KafkaError.UNKNOWN_TOPIC_OR_PARTITION);
  if (electionType !== PREFERRED && electionType !== UNCLEAN) return result(KafkaError.INVALID_REQUEST, `unknown election type ${electionType}`);
  const state = ctx.cluster.partitionState(topic, partitionId);
  if (!state) return result(KafkaError.ELECTION_NOT_NEEDED);
  if (electionType === UNCLEAN) return state.leader >= 0 ? result(KafkaError.ELECTION_NOT_NEEDED) : result(KafkaError.ELIGIBLE_LEADERS_NOT_AVAILABLE);
  const preferred = state.replicas[0];
  if (state.leader === preferred) return result(KafkaError.ELECTION_NOT_NEEDED);
  const live = new Set(ctx.cluster.members().map((m) => m.nodeId));
  if (preferred === undefined || !live.has(preferred) || !state.isr.some(([id]) => id === preferred)) {
    return result(KafkaError.PREFERRED_LEADER_NOT_AVAILABLE, `Failed to elect leader for partition ${topic}-${partitionId} under strategy PreferredReplicaPartitionLeaderElectionStrategy`);
  }
  const moved = () => ctx.cluster.partitionState(topic, partitionId)?.leader === preferred;
  while (!moved() && ctx.clock.now() < deadline) await firstEventOrTimeout(ctx.clock, deadline - ctx.clock.now(), [(wake) => ctx.cluster.onChange(wake)]);
  return moved() ? result(KafkaError.NONE) : result(KafkaError.REQUEST_TIMED_OUT, 'the preferred leader election did not complete within the timeout');
}
