import { encodeRecordBatch, type RecordInput } from '../record/index.ts';
import type { PartitionLog } from '../storage/partition-log.ts';

const MAX_PENDING_BYTES = 1024 * 1024;

interface Waiter {
  resolve: (offset: number) => void;
  reject: (err: unknown) => void;
}

/** The records gathered for one append, and who waits for it. */
class PendingBatch {
  readonly records: RecordInput[] = [];
  /** Callers of append(), index-aligned with their records; `undefined` for appendInBatch's. */
  readonly waiters: Array<Waiter | undefined> = [];
  bytes = 0;
  private shared: { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } | undefined;

  /** One promise for every appendInBatch record of this batch. */
  get committed(): Promise<void> {
    if (!this.shared) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.shared = { promise, resolve, reject };
    }
    return this.shared.promise;
  }

  settle(baseOffset: number): void {
    for (let i = 0; i < this.waiters.length; i++) this.waiters[i]?.resolve(baseOffset + i);
    this.shared?.resolve();
  }

  fail(err: unknown): void {
    for (const w of this.waiters) w?.reject(err);
    this.shared?.reject(err);
  }
}

/**
 * Coalesces the records appended to one log within a turn of the event loop into one record batch, so
 * a burst of messages costs one append (and one sync under flush=always), not one each. append()
 * resolves with its record's offset; appendInBatch() returns the promise the whole batch shares.
 */
export class BatchingAppender {
  private batch = new PendingBatch();
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
    return this.batch.records.length;
  }

  append(record: RecordInput): Promise<number> {
    return new Promise<number>((resolve, reject) => this.add(record, { resolve, reject }));
  }

  /** Resolves once the batch holding `record` is committed: every record of a batch gets the same promise. */
  appendInBatch(record: RecordInput): Promise<void> {
    const committed = this.batch.committed;
    this.add(record, undefined);
    return committed;
  }

  flush(): void {
    this.scheduled = false;
    const batch = this.batch;
    if (batch.records.length === 0) return;
    this.batch = new PendingBatch();
    let appended: Promise<{ baseOffset: number }>;
    try {
      appended = this.log.append(this.options.recordPerBatch ? encodeEach(batch.records) : encodeRecordBatch({ records: batch.records }));
    } catch (err) {
      appended = Promise.reject(err);
    }
    appended.then(
      ({ baseOffset }) => batch.settle(baseOffset),
      (err: unknown) => batch.fail(err),
    );
  }

  private add(record: RecordInput, waiter: Waiter | undefined): void {
    const batch = this.batch;
    batch.records.push(record);
    batch.waiters.push(waiter);
    batch.bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
    if (batch.bytes >= MAX_PENDING_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }
}

function encodeEach(records: readonly RecordInput[]): Buffer {
  const batches = records.map((record) => encodeRecordBatch({ records: [record] }));
  const out = Buffer.allocUnsafe(batches.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const batch of batches) at += batch.copy(out, at);
  return out;
}
