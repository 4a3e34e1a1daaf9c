import { encodeRecordBatch, type RecordInput } from '../record/index.ts';
import type { PartitionLog } from '../storage/partition-log.ts';

const MAX_PENDING_BYTES = 1024 * 1024;

/**
 * Coalesces the records appended to one log within a turn of the event loop into one record batch, so
 * a burst of messages costs one append (and one sync under flush=always), not one each. Each append
 * resolves with its record's offset once the batch is committed.
 */
export class BatchingAppender {
  private records: RecordInput[] = [];
  private waiters: Array<{ resolve: (offset: number) => void; reject: (err: unknown) => void }> = [];
  private bytes = 0;
  private scheduled = false;

  /**
   * `recordPerBatch` stores each record as its own batch (61 bytes more each) so it can later be read
   * alone, without decoding its neighbours: for logs read at random offsets, like timers.
   */
  constructor(
    private readonly log: PartitionLog,
    private readonly options: { recordPerBatch?: boolean } = {},
  ) {}

  get pending(): number {
    return this.records.length;
  }

  append(record: RecordInput): Promise<number> {
    this.records.push(record);
    this.bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
    const done = new Promise<number>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.bytes >= MAX_PENDING_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return done;
  }

  flush(): void {
    this.scheduled = false;
    if (this.records.length === 0) return;
    const records = this.records;
    const waiters = this.waiters;
    this.records = [];
    this.waiters = [];
    this.bytes = 0;
    let appended: Promise<{ baseOffset: number }>;
    try {
      appended = this.log.append(this.options.recordPerBatch ? encodeEach(records) : encodeRecordBatch({ records }));
    } catch (err) {
      appended = Promise.reject(err);
    }
    appended.then(
      ({ baseOffset }) => {
        for (let i = 0; i < waiters.length; i++) waiters[i]!.resolve(baseOffset + i);
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err);
      },
    );
  }
}

function encodeEach(records: readonly RecordInput[]): Buffer {
  const batches = records.map((record) => encodeRecordBatch({ records: [record] }));
  const out = Buffer.allocUnsafe(batches.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const batch of batches) at += batch.copy(out, at);
  return out;
}
