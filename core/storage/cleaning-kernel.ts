import { deleteHorizonOf, filterRecords, forEachRecord } from '../record/index.ts';
import { KeyOffsetMap } from './key-offset-map.ts';

/**
 * The record-level work of one cleaning pass, apart from everything that touches the log: it maps keys
 * to their last offsets and filters batches against that map. Batches come in jobs: one buffer holding
 * whole batches back to back, with `bounds` [start, end) pairs for each. Nothing here reads a file or
 * keeps a job's bytes, so a pass can run it on a thread of its own (cleaner-thread.ts).
 */
export class CleaningKernel {
  private readonly keys: KeyOffsetMap;

  constructor(maxKeys: number) {
    this.keys = new KeyOffsetMap(maxKeys);
  }

  /**
   * Kafka's buildOffsetMap over the job's batches: records at or after `firstDirty` with a key. With
   * `unbounded` every key is taken (the pass's first segment, so that each pass makes progress).
   */
  map(job: Buffer, bounds: Int32Array, firstDirty: number, unbounded: boolean): MapOutcome {
    let overflowed = false;
    const record = (offset: number, _timestamp: number, key: Buffer | null): void => {
      if (key !== null && offset >= firstDirty && !this.keys.put(key, offset, unbounded)) overflowed = true;
    };
    for (let i = 0; i < bounds.length && !overflowed; i += 2) forEachRecord(job.subarray(bounds[i]!, bounds[i + 1]!), 0, record);
    return { overflowed, full: this.keys.full };
  }

  /**
   * Each batch of the job filtered as Kafka's cleaner does: a record stays if it has a key and no later
   * record has that key; a kept tombstone marks its batch with a delete horizon `newHorizon` unless the
   * batch has one, and goes once `now` is past the batch's horizon.
   */
  filter(job: Buffer, bounds: Int32Array, now: number, newHorizon: number, into?: Buffer): FilterOutcome {
    const outcomes = new Int32Array((bounds.length / 2) * OUTCOME_FIELDS);
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let horizon: number | undefined;
    let keptTombstone = false;
    const retain = (offset: number, key: Buffer | null, value: Buffer | null): boolean => {
      if (key === null || offset < this.keys.get(key)) return false;
      if (value !== null) return true;
      if (horizon !== undefined && now > horizon) return false;
      keptTombstone = true;
      return true;
    };
    const horizonToSet = (): number | undefined => (keptTombstone && horizon === undefined ? newHorizon : undefined);
    for (let i = 0, o = 0; i < bounds.length; i += 2, o += OUTCOME_FIELDS) {
      const batch = job.subarray(bounds[i]!, bounds[i + 1]!);
      horizon = deleteHorizonOf(batch);
      keptTombstone = false;
      const filtered = filterRecords(batch, retain, horizonToSet);
      outcomes[o] = (filtered.kept === 'all' ? Kept.all : filtered.kept === 'none' ? Kept.none : Kept.some) | (keptTombstone ? Kept.tombstoneFlag : 0);
      if (filtered.kept === 'some') {
        outcomes[o + 1] = keptBytes;
        outcomes[o + 2] = filtered.batch.length;
        kept.push(filtered.batch);
        keptBytes += filtered.batch.length;
      }
    }
    // `into` if the survivors fit, else memory of its own (never a slice of Buffer's shared pool: it may
    // be transferred to another thread).
    const out = into !== undefined && into.length >= keptBytes ? into.subarray(0, keptBytes) : Buffer.from(new ArrayBuffer(keptBytes));
    let at = 0;
    for (const batch of kept) at += batch.copy(out, at);
    return { outcomes, out };
  }
}

export interface MapOutcome {
  /** A new key did not fit: the pass ends before the segment this job came from. */
  overflowed: boolean;
  full: boolean;
}

/**
 * Per batch, OUTCOME_FIELDS numbers: what was kept (a Kept value, with Kept.tombstoneFlag if a tombstone
 * stayed), then for Kept.some where the rewritten batch is in `out` (start, length). `out` is the
 * buffer the caller offered when the survivors fit in it.
 */
export interface FilterOutcome {
  outcomes: Int32Array;
  out: Buffer;
}

export const OUTCOME_FIELDS = 3;

export const Kept = Object.freeze({ all: 0, none: 1, some: 2, mask: 3, tombstoneFlag: 4 });
