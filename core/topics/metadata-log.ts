import { pack, unpack } from 'msgpackr';
import { RecordBatch, decodeRecords, encodeRecordBatch, type RecordInput } from '../record/index.ts';
import type { FlushPolicy, LogConfig } from '../storage/log-config.ts';
import type { PartitionLog, StorageEngine } from '../storage/partition-log.ts';
import type { ProducerStateView } from '../storage/producer-state.ts';

/**
 * How a write is framed, for a log a transaction coordinator's markers also reach (`__consumer_offsets`):
 * `producer` makes the changes a transactional batch of that producer, so the log's producer state
 * holds its epoch as Kafka's offsets log does; `marker` is a transaction marker appended just before
 * the changes, in the same append.
 */
export interface WriteFraming {
  producer?: { readonly id: number; readonly epoch: number };
  marker?: Buffer;
}

/** Internal logs are named `__wharf_<name>`; the topic registry leaves them alone. */
export const INTERNAL_LOG_PREFIX = '__wharf_';

const METADATA_LOG_CONFIG: LogConfig = {
  segmentBytes: 16 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  retentionMs: -1,
  retentionBytes: -1,
  indexIntervalBytes: 4096,
  flush: { kind: 'always' },
  cleanupPolicy: 'compact',
  compaction: { deleteRetentionMs: 0 },
};
const REPLAY_READ_BYTES = 1024 * 1024;

/**
 * Core-owned metadata as a compacted internal log: each record is (key, msgpack value) or a
 * tombstone; the state is replayed on open. Besides the periodic cleaner, once the log holds more
 * than twice the live keys it rolls and asks for a compaction pass at once.
 */
export class MetadataLog<V> {
  private recordsInLog: number;
  private compaction: Promise<void> | undefined;

  private constructor(
    private readonly log: PartitionLog,
    private readonly state: Map<string, V>,
    recordsInLog: number,
  ) {
    this.recordsInLog = recordsInLog;
  }

  /**
   * `flush` overrides `always` for a log that needs to be only as durable as the topics it describes
   * (Kafka's __transaction_state follows the broker's flush policy, like the data its markers end).
   */
  static async open<V>(engine: StorageEngine, name: string, options: { flush?: FlushPolicy } = {}): Promise<MetadataLog<V>> {
    const config = options.flush === undefined ? METADATA_LOG_CONFIG : { ...METADATA_LOG_CONFIG, flush: options.flush };
    return MetadataLog.load<V>(await engine.openLog({ topic: `${INTERNAL_LOG_PREFIX}${name}`, partition: 0 }, config));
  }

  /**
   * Replays a log someone else opened, to its end (a partition this broker has just come to lead
   * holds, beyond its high watermark, records that it will now commit).
   */
  static async load<V>(log: PartitionLog): Promise<MetadataLog<V>> {
    const state = new Map<string, V>();
    let records = 0;
    for (let offset = log.logStartOffset; offset < log.logEndOffset; ) {
      const { records: bytes } = await log.read(offset, REPLAY_READ_BYTES, log.logEndOffset);
      if (bytes.length === 0) break;
      for (let pos = 0; pos < bytes.length; ) {
        const batch = new RecordBatch(bytes, pos);
        // A transaction marker holds no key of the state.
        const keyed = batch.isControl ? [] : decodeRecords(batch.bytes);
        for (const record of keyed) {
          records++;
          if (record.key === null) continue;
          const key = record.key.toString('utf8');
          if (record.value === null) state.delete(key);
          else state.set(key, unpack(record.value) as V);
        }
        offset = batch.nextOffset;
        pos += batch.sizeInBytes;
      }
    }
    return new MetadataLog(log, state, records);
  }

  get size(): number {
    return this.state.size;
  }

  /** The producers whose batches and markers the log holds (transactional writes only). */
  get producerState(): ProducerStateView {
    return this.log.producerState;
  }

  has(key: string): boolean {
    return this.state.has(key);
  }

  get(key: string): V | undefined {
    return this.state.get(key);
  }

  entries(): IterableIterator<[string, V]> {
    return this.state.entries();
  }

  values(): IterableIterator<V> {
    return this.state.values();
  }

  /** Resolves once the change is committed (synced). The in-memory state changes at once. */
  put(key: string, value: V): Promise<void> {
    return this.write([[key, value]]);
  }

  delete(key: string): Promise<void> {
    if (!this.state.has(key)) return Promise.resolve();
    return this.write([[key, undefined]]);
  }

  /** Several changes in one batch: all or none survive a crash. `undefined` deletes. */
  async write(changes: ReadonlyArray<readonly [string, V | undefined]>, framing: WriteFraming = {}): Promise<void> {
    if (changes.length === 0) {
      if (framing.marker) await this.log.append(framing.marker);
      return;
    }
    const records: RecordInput[] = [];
    const previous = changes.map(([key]) => this.state.get(key));
    for (const [key, value] of changes) {
      if (value === undefined) this.state.delete(key);
      else this.state.set(key, value);
      records.push({ key: Buffer.from(key, 'utf8'), value: value === undefined ? null : pack(value) });
    }
    try {
      const { producer, marker } = framing;
      const batch = encodeRecordBatch(producer ? { records, producerId: producer.id, producerEpoch: producer.epoch, baseSequence: 0, transactional: true } : { records });
      await this.log.append(marker ? Buffer.concat([marker, batch]) : batch);
    } catch (err) {
      // Not stored (a full disk, say): the state goes back to what is on disk, unless a later write changed it.
      changes.forEach(([key, value], i) => {
        if (this.state.get(key) !== value) return;
        if (previous[i] === undefined) this.state.delete(key);
        else this.state.set(key, previous[i]!);
      });
      throw err;
    }
    this.recordsInLog += records.length;
    // A failed pass is retried, and logged, by the storage engine's periodic cleaner.
    if (this.recordsInLog > 2 * this.state.size + 1024) this.compaction ??= this.compact().catch(() => undefined);
  }

  /** Rolls the log and compacts what it holds (the writes go on meanwhile); resolves when the pass is done. */
  async compact(): Promise<void> {
    try {
      this.recordsInLog = this.state.size;
      await this.log.roll();
      await this.log.compact();
    } finally {
      this.compaction = undefined;
    }
  }

  /** The compaction under way, if any. */
  get compacting(): Promise<void> | undefined {
    return this.compaction;
  }
}
