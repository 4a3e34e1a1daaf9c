import { gunzipSync } from 'node:zlib';
import { BrokerError } from '../errors.ts';
import { lz4Decompress } from './lz4.ts';
import { snappyDecompress } from './snappy.ts';
import { zstdDecompress } from './zstd.ts';

/**
 * The most a batch's records may decompress to here. Producers bound a batch by its uncompressed size
 * (batch.size, message.max.bytes: about 1 MiB by default), so real batches stay far below it.
 */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/** The codecs of a batch's attributes bits 0-2 (Kafka's CompressionType ids). */
export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionCodec = (typeof Compression)[keyof typeof Compression];

/**
 * The records section of a compressed batch, decompressed. Only rare paths call this (a lookup inside
 * one batch, a producer's batch whose header must be repaired): stored bytes stay compressed.
 * CORRUPT_RECORD for data that does not decompress or exceeds `maxBytes`; UNSUPPORTED_COMPRESSION for an unknown codec.
 */
export function decompress(codec: number, data: Buffer, maxBytes = MAX_DECOMPRESSED_BYTES): Buffer {
  try {
    switch (codec) {
      case Compression.none:
        return data;
      case Compression.gzip:
        return gunzipSync(data, { maxOutputLength: maxBytes });
      case Compression.snappy:
        return snappyDecompress(data, maxBytes);
      case Compression.lz4:
        return lz4Decompress(data, maxBytes);
      case Compression.zstd:
        return zstdDecompress(data, maxBytes);
    }
  } catch (err) {
    if (BrokerError.is(err)) throw err;
    throw new BrokerError('CORRUPT_RECORD', `records do not decompress (codec ${codec}): ${(err as Error).message}`, { cause: err });
  }
  throw new BrokerError('UNSUPPORTED_COMPRESSION', `unknown compression codec ${codec}`);
}
