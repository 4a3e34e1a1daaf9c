import { encodeRecordBatch, type PartitionLog, type RecordInput } from '../../../core/index.ts';

const MAX_PENDING_BYTES = 1024 * 1024;

/**
 * Coalesces the messages published to one queue log within a turn of the event loop into one record
 * batch, so a burst of publishes costs one append (and one sync under flush=always), not one each.
 */
export class QueueAppender {
  private records: RecordInput[] = [];
  private waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private bytes = 0;
  private scheduled = false;

  constructor(private readonly log: PartitionLog) {}

  get pending(): number {
    return this.records.length;
  }

  append(record: RecordInput): Promise<void> {
    this.records.push(record);
    this.bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
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
    let appended: Promise<unknown>;
    try {
      appended = this.log.append(encodeRecordBatch({ records }));
    } catch (err) {
      appended = Promise.reject(err);
    }
    appended.then(
      () => {
        for (const w of waiters) w.resolve();
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err);
      },
    );
  }
}
