import { decompress } from '../record/compression.ts';
import { BatchField, COMPRESSION_MASK } from '../record/record-batch.ts';
import { VarintReader } from '../record/varint.ts';
import { HEADER, nameIs } from './stream-headers.ts';

/**
 * A stream consumer's filter, as RabbitMQ 3.13's filter_spec (AMQP 0-9-1 `x-stream-filter`, stream
 * protocol `filter.N` subscription properties): the filter values it wants, and whether messages
 * without a filter value match too.
 */
export interface StreamFilter {
  readonly values: readonly Buffer[];
  readonly matchUnfiltered: boolean;
}

const NOT_FOUND = -2;
const NULL_VALUE = -1;

/** The header an AMQP 0-9-1 publisher (or a Kafka producer) sets to give a message its filter value. */
const FILTER_VALUE_HEADER = Buffer.from('x-stream-filter-value');

export function streamFilter(values: Iterable<string>, matchUnfiltered: boolean): StreamFilter {
  return { values: [...new Set(values)].map((v) => Buffer.from(v)), matchUnfiltered };
}

/**
 * Whether the batch at `pos` (osiris: a chunk) holds a message the filter wants: one whose filter value
 * it lists, or one without a filter value when it matches unfiltered. A message's filter value is its
 * first `x-amqp-filter-value` header (stream protocol Publish v2), else its first `x-stream-filter-value`
 * header (AMQP 0-9-1 header, Kafka header); a null value is none. A matching batch is delivered whole,
 * as RabbitMQ delivers a chunk whose Bloom filter matches: consumers filter its messages on their side.
 * Reads the records in place.
 */
export function batchMatchesFilter(buf: Buffer, pos: number, filter: StreamFilter): boolean {
  const batchEnd = pos + 12 + buf.readInt32BE(pos + BatchField.batchLength);
  const codec = buf.readInt16BE(pos + BatchField.attributes) & COMPRESSION_MASK;
  const records = codec === 0 ? buf : decompress(codec, buf.subarray(pos + BatchField.records, batchEnd));
  const start = codec === 0 ? pos + BatchField.records : 0;
  const r = new VarintReader(records, start, codec === 0 ? batchEnd : records.length);
  for (let i = buf.readInt32BE(pos + BatchField.recordCount); i > 0; i--) {
    const length = r.varint();
    const recordEnd = r.offset + length;
    r.int8(); // attributes
    r.varint(10); // timestamp delta
    r.varint(); // offset delta
    r.bytes(r.varint()); // key
    r.bytes(r.varint()); // value
    // The first x-amqp-filter-value and x-stream-filter-value headers: NOT_FOUND, NULL_VALUE or where the value starts.
    let own = NOT_FOUND;
    let ownEnd = 0;
    let plain = NOT_FOUND;
    let plainEnd = 0;
    for (let h = r.varint(); h > 0; h--) {
      const keyLength = r.varint();
      const keyAt = r.offset;
      r.bytes(keyLength);
      const valueLength = r.varint();
      const valueAt = r.offset;
      r.bytes(valueLength);
      if (own === NOT_FOUND && nameIs(records, keyAt, keyAt + keyLength, HEADER.filterValue)) {
        own = valueLength < 0 ? NULL_VALUE : valueAt;
        ownEnd = valueAt + valueLength;
      } else if (plain === NOT_FOUND && nameIs(records, keyAt, keyAt + keyLength, FILTER_VALUE_HEADER)) {
        plain = valueLength < 0 ? NULL_VALUE : valueAt;
        plainEnd = valueAt + valueLength;
      }
    }
    const at = own !== NOT_FOUND ? own : plain;
    if (at < 0 ? filter.matchUnfiltered : wants(filter, records, at, own !== NOT_FOUND ? ownEnd : plainEnd)) return true;
    r.offset = recordEnd;
  }
  return false;
}

function wants(filter: StreamFilter, buf: Buffer, start: number, end: number): boolean {
  for (const value of filter.values) if (nameIs(buf, start, end, value)) return true;
  return false;
}
