import { gunzipSync } from 'node:zlib';
import { MAX_DECOMPRESSED_BYTES, type StreamBatchBuilder } from '../../core/index.ts';
import type { FrameReader } from './protocol.ts';

/** The sub-entry bit of an entry's first byte (osiris: entry type 1); bits 4-6 are its compression. */
export const SUB_ENTRY_FLAG = 0x80;
/** Compression types of sub-entries (the stream clients' CompressionType; the same ids as Kafka's). */
export const SubEntryCompression = { none: 0, gzip: 1 } as const;
/** rabbit_stream_utils' MAX_KNOWN_COMPRESSION_TYPE: none, gzip, snappy, lz4, zstd. */
const MAX_KNOWN_COMPRESSION = 4;
/** RabbitMQ's stream.max_uncompressed_sub_entry_batch_size default (64 MiB). */
const MAX_SUB_ENTRY_UNCOMPRESSED = MAX_DECOMPRESSED_BYTES;
/** Compression type, record count, uncompressed size, data size. */
export const SUB_ENTRY_HEADER = 1 + 2 + 4 + 4;

/** A sub-entry of a Publish frame: `count` messages, `[start, end)` of the frame compressed with `compression`. */
export interface SubEntry {
  compression: number;
  count: number;
  uncompressed: number;
  start: number;
  end: number;
}

/** Reads the sub-entry at the reader (after its publishing id); MALFORMED_INPUT when it runs past the frame. */
export function readSubEntry(r: FrameReader): SubEntry {
  const compression = (r.uint8() >> 4) & 0x07;
  const count = r.uint16();
  const uncompressed = r.uint32();
  const size = r.uint32();
  const start = r.pos;
  r.skip(size);
  return { compression, count, uncompressed, start, end: r.pos };
}

/**
 * Why RabbitMQ (rabbit_stream_utils:validate_compressed_sub_batch) refuses the sub-entry, or why Wharf
 * cannot store it (snappy, lz4 and zstd have no codec here that speaks the stream clients' framing);
 * undefined for one to store.
 */
export function subEntryProblem(e: SubEntry): string | undefined {
  if (e.uncompressed > MAX_SUB_ENTRY_UNCOMPRESSED) return `uncompressed size ${e.uncompressed} exceeds ${MAX_SUB_ENTRY_UNCOMPRESSED}`;
  if (e.count === 0) return 'no messages';
  if (e.count * 4 > e.uncompressed) return `${e.count} messages cannot fit ${e.uncompressed} bytes`;
  if (e.compression > MAX_KNOWN_COMPRESSION) return `unknown compression type ${e.compression}`;
  if (e.end === e.start && e.compression !== SubEntryCompression.none) return 'empty compressed data';
  if (e.compression !== SubEntryCompression.none && e.compression !== SubEntryCompression.gzip) return `compression type ${e.compression} is not supported`;
  return undefined;
}

/**
 * Adds the sub-entry's messages (each a uint32 size and an AMQP 1.0 message) to `builder`; false, with
 * the builder reset, when the data does not decompress to the declared size or does not hold exactly
 * `count` messages. Decompression stops at the declared size (at most MAX_SUB_ENTRY_UNCOMPRESSED).
 */
export function addSubEntryMessages(frame: Buffer, e: SubEntry, builder: StreamBatchBuilder): boolean {
  let data = frame;
  let pos = e.start;
  let end = e.end;
  if (e.compression === SubEntryCompression.gzip) {
    try {
      data = gunzipSync(frame.subarray(e.start, e.end), { maxOutputLength: Math.max(1, e.uncompressed) });
    } catch {
      return false;
    }
    if (data.length !== e.uncompressed) return false;
    pos = 0;
    end = data.length;
  }
  let added = 0;
  while (pos < end) {
    if (pos + 4 > end || added === e.count) break;
    const size = data.readUInt32BE(pos);
    if (size > end - pos - 4) break;
    builder.add(data, pos + 4, pos + 4 + size);
    added++;
    pos += 4 + size;
  }
  if (pos === end && added === e.count) return true;
  builder.reset();
  return false;
}
