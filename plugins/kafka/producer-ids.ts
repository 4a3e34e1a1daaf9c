import { MetadataLog, type StorageEngine } from '../../core/index.ts';

const BLOCK = 1000;

/**
 * Producer ids for InitProducerId, unique across restarts: blocks of ids are reserved durably in an
 * internal metadata log before any id of the block is handed out.
 */
export class ProducerIds {
  private next = 0;
  private limit = 0;
  private reserving: Promise<void> | undefined;

  private constructor(private readonly log: MetadataLog<number>) {
    this.next = this.limit = log.get('reserved-up-to') ?? 0;
  }

  static async open(engine: StorageEngine): Promise<ProducerIds> {
    return new ProducerIds(await MetadataLog.open<number>(engine, 'kafka-producer-ids'));
  }

  async allocate(): Promise<number> {
    while (this.next >= this.limit) {
      this.reserving ??= this.log.put('reserved-up-to', this.limit + BLOCK).then(() => {
        this.limit += BLOCK;
        this.reserving = undefined;
      });
      await this.reserving;
    }
    return this.next++;
  }
}
