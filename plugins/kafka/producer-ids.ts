import type { Cluster } from '../../core/index.ts';

const BLOCK = 1000;

/**
 * Producer ids for InitProducerId, unique across restarts and, in a cluster, across brokers: blocks
 * of ids are reserved durably through the core before any id of the block is handed out.
 */
export class ProducerIds {
  private next = 0;
  private limit = 0;
  private reserving: Promise<void> | undefined;

  constructor(private readonly cluster: Cluster) {}

  async allocate(): Promise<number> {
    while (this.next >= this.limit) {
      this.reserving ??= this.cluster.reserveIds('kafka-producer-ids', BLOCK).then(
        (first) => {
          this.next = first;
          this.limit = first + BLOCK;
          this.reserving = undefined;
        },
        (err: unknown) => {
          this.reserving = undefined;
          throw err;
        },
      );
      await this.reserving;
    }
    return this.next++;
  }
}
