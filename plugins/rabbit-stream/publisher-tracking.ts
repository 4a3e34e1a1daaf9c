import { forEachRecord, STREAM_HEADERS, type PartitionLog } from '../../core/index.ts';

const READ_BYTES = 4 * 1024 * 1024;
const PUBLISHER_HEADER = STREAM_HEADERS.publisher.toString();

/**
 * The last publishing id of each named publisher (publisher reference) per stream: deduplication.
 * Every batch a named publisher appends carries its reference and last id on its last record
 * (`x-amqp-publisher`), so the table of a stream is rebuilt from the stream itself, once, the first
 * time a publisher reference of that stream is asked for after a start.
 */
export class PublisherTracking {
  private readonly streams = new Map<string, Map<string, bigint>>();
  private readonly loading = new Map<string, Promise<Map<string, bigint>>>();

  /** The table of a stream's topic, loaded from its log when needed. */
  async of(topic: string, log: PartitionLog): Promise<Map<string, bigint>> {
    const known = this.streams.get(topic);
    if (known) return known;
    let loading = this.loading.get(topic);
    if (!loading) {
      loading = scan(log).then((table) => {
        this.streams.set(topic, table);
        this.loading.delete(topic);
        return table;
      });
      this.loading.set(topic, loading);
    }
    return loading;
  }

  /** Forget a stream (deleted, or an append failed: what was accepted in memory may not be stored). */
  forget(topic: string): void {
    this.streams.delete(topic);
  }
}

async function scan(log: PartitionLog): Promise<Map<string, bigint>> {
  const table = new Map<string, bigint>();
  let offset = log.logStartOffset;
  const end = log.highWatermark;
  while (offset < end) {
    const { records } = await log.read(offset, READ_BYTES);
    if (records.length === 0) break;
    let pos = 0;
    while (pos + 12 <= records.length) {
      const size = records.readInt32BE(pos + 8) + 12;
      forEachRecord(records, pos, (recordOffset, _t, _k, _v, headers) => {
        offset = recordOffset + 1;
        for (const header of headers) {
          if (header.key === PUBLISHER_HEADER && header.value && header.value.length >= 8) {
            table.set(header.value.toString('utf8', 8), header.value.readBigUInt64BE(0));
          }
        }
      });
      offset = Math.max(offset, Number(records.readBigInt64BE(pos)) + records.readInt32BE(pos + 23) + 1);
      pos += size;
    }
  }
  return table;
}
