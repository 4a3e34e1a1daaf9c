import { LeaderEpochCache, type PartitionLog } from '../../core/index.ts';
import type { KafkaContext } from './kafka-context.ts';

/**
 * The partition's leader-epoch history: the replica's in a cluster; on a single node every batch carries
 * epoch 0, which starts at the log start offset.
 */
export function leaderEpochsOf(ctx: KafkaContext, topic: string, partition: number, log: PartitionLog): LeaderEpochCache {
  const recorded = ctx.topics.replicaLog(topic, partition)?.leaderEpochs;
  return recorded && recorded.all.length > 0 ? recorded : new LeaderEpochCache([{ epoch: 0, startOffset: log.logStartOffset }]);
}
