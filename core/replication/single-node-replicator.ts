import { injectable } from 'inversify';
import type { ReplicaLog, Replicator } from './replicator.ts';

/** Committed = stored under the log's flush policy: synced for `always`, written for the others. */
@injectable()
export class SingleNodeReplicator implements Replicator {
  readonly name = 'single-node';

  commit(log: ReplicaLog, endOffset: number): Promise<void> {
    if (log.config.flush.kind !== 'always') {
      log.advanceHighWatermark(endOffset);
      return Promise.resolve();
    }
    return log.syncTo(endOffset).then(() => log.advanceHighWatermark(endOffset));
  }
}
