import { injectable } from 'inversify';
import { BrokerError } from '../errors.ts';
import type { Acks } from '../storage/partition-log.ts';
import type { ReplicaLog, Replicator } from './replicator.ts';

/** Committed = stored under the log's flush policy: synced for `always`, written for the others. */
@injectable()
export class SingleNodeReplicator implements Replicator {
  readonly name = 'single-node';

  /** One replica is in sync: a log that asks for more refuses acks=all appends, as Kafka does. */
  checkAppend(log: ReplicaLog, acks: Acks): BrokerError | undefined {
    if (acks === 'all' && (log.config.minInsyncReplicas ?? 1) > 1) return notEnoughReplicas(log, 1);
    return undefined;
  }

  commit(log: ReplicaLog, endOffset: number, _acks: Acks): Promise<void> {
    if (log.config.flush.kind !== 'always') {
      log.advanceHighWatermark(endOffset);
      return Promise.resolve();
    }
    return log.syncTo(endOffset).then(() => log.advanceHighWatermark(endOffset));
  }
}

export function notEnoughReplicas(log: ReplicaLog, inSync: number): BrokerError {
  return new BrokerError(
    'NOT_ENOUGH_REPLICAS',
    `${log.topic}-${log.partition} has ${inSync} in-sync replica${inSync === 1 ? '' : 's'}, fewer than min.insync.replicas ${log.config.minInsyncReplicas ?? 1}`,
  );
}
