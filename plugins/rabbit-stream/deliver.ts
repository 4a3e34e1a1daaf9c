import { crc32, gzipSync } from 'node:zlib';
import {
  BatchField,
  batchMatchesFilter,
  Compression,
  COMPRESSION_MASK,
  CONTROL_FLAG,
  decompress,
  isAbortedBatch,
  StreamEntryEncoder,
  VarintReader,
  type AbortedTransaction,
  type StreamFilter,
} from '../../core/index.ts';
import { Command } from './protocol.ts';
import { SUB_ENTRY_FLAG, SUB_ENTRY_HEADER } from './sub-entry.ts';

/** Osiris chunk header: magic/version, type, entries, records, timestamp, epoch, first offset, crc, data length, trailer length, bloom size, reserved. */
const CHUNK_HEADER_SIZE = 48;
/** Frame size, key, version, subscription id. */
const DELIVER_PREFIX = 4 + 2 + 2 + 1;
const OSIRIS_MAGIC_VERSION = 0x50;
/**
 * A chunk gathers consecutive batches up to about this many bytes of entries (osiris writes big chunks
 * under load too). Clients pay per chunk (rabbitmq-stream-js-client formats every Deliver it decodes)
 * and per socket read of a partial frame (it copies what it holds so far): 512 KiB balances the two.
 */
const CHUNK_DATA_TARGET = 512 * 1024;
const FIRST_SCRATCH_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);
/** Entries per chunk: the header counts them in a uint16. */
const MAX_ENTRIES = 0xffff;

export interface Chunk {
  /** The Deliver frame; undefined when the batches read hold nothing a consumer sees (transaction markers, aborted transactions, batches its filter skips). */
  frame: Buffer | undefined;
  /** Where the next unread batch begins in the buffer. */
  next: number;
  /** The offset after the chunk's last record. */
  nextOffset: number;
}

/** What a subscription's Deliver frames carry besides the chunk. */
export interface DeliverOptions {
  /** Deliver v2 (the client announced it in ExchangeCommandVersions) carries the committed chunk id. */
  readonly version: number;
  readonly committedChunkId: number;
  /** Batches holding no message the filter wants are skipped (subscription properties filter.N). */
  readonly filter: StreamFilter | undefined;
}

/**
 * Stored record batches as one Deliver frame: consecutive batches become one osiris user chunk of simple
 * entries, each an AMQP 1.0 message built around the stored body in one pass (one buffer per chunk, no
 * object per record). The first batch may begin before `fromOffset`: the chunk holds it whole, as osiris
 * delivers the chunk an offset falls in, and clients skip what they did not ask for. Transaction markers,
 * the batches of `aborted` Kafka transactions and batches the filter skips are left out: a chunk ends
 * before them. A batch stored from a sub-entry is a chunk of its own, holding it as one sub-entry
 * (clients read a chunk's sub-entry only when it is the chunk's first entry).
 */
export class ChunkEncoder {
  private readonly entries = new StreamEntryEncoder();
  /** Where a chunk's entries are written as they are encoded (one pass), then copied into the frame. */
  private scratch = EMPTY;

  encode(subscriptionId: number, batches: Buffer, pos: number, fromOffset: number, aborted: readonly AbortedTransaction[], options: DeliverOptions): Chunk {
    let dataLength = 0;
    let entries = 0;
    let firstOffset = -1;
    let expected = -1;
    let timestamp = 0n;
    let epoch = 0;
    let nextOffset = fromOffset;
    /** The compression of the sub-entry the chunk holds; -1 for simple entries. */
    let subEntry = -1;
    const filter = options.filter;
    batches: while (pos + BatchField.records <= batches.length) {
      const batchEnd = pos + 12 + batches.readInt32BE(pos + BatchField.batchLength);
      if (batchEnd > batches.length) break;
      const baseOffset = Number(batches.readBigInt64BE(pos + BatchField.baseOffset));
      const lastOffset = baseOffset + batches.readInt32BE(pos + BatchField.lastOffsetDelta);
      const attributes = batches.readInt16BE(pos + BatchField.attributes);
      const count = batches.readInt32BE(pos + BatchField.recordCount);
      if (lastOffset < nextOffset || (attributes & CONTROL_FLAG) !== 0 || count === 0 || isAbortedBatch(batches, pos, aborted) || (filter !== undefined && !batchMatchesFilter(batches, pos, filter))) {
        if (firstOffset >= 0 && lastOffset >= nextOffset) break; // a marker, an aborted or a filtered batch ends the contiguous run
        nextOffset = Math.max(nextOffset, lastOffset + 1);
        pos = batchEnd;
        continue;
      }
      if (firstOffset >= 0 && (baseOffset !== expected || entries + count > MAX_ENTRIES || dataLength >= CHUNK_DATA_TARGET)) break;
      if (count !== lastOffset - baseOffset + 1 && firstOffset >= 0) break; // a compacted batch goes alone
      let records = batches;
      let start = pos + BatchField.records;
      let end = batchEnd;
      const codec = attributes & COMPRESSION_MASK;
      if (codec !== 0) {
        records = decompress(codec, batches.subarray(start, batchEnd));
        start = 0;
        end = records.length;
      }
      const reader = new VarintReader(records, start, end);
      for (let i = 0; i < count; i++) {
        const length = reader.varint();
        const recordStart = reader.offset;
        const size = this.entries.measure(records, recordStart, recordStart + length);
        if (i === 0 && this.entries.beginsSubEntry) {
          if (firstOffset >= 0) break batches; // the sub-entry begins the next chunk
          subEntry = codec;
        }
        this.reserve(dataLength + 4 + size);
        this.scratch.writeUInt32BE(size, dataLength); // simple entry: top bit 0, then the size (a sub-entry's messages are laid out alike)
        dataLength = this.entries.write(records, this.scratch, dataLength + 4);
        reader.offset = recordStart + length;
      }
      if (firstOffset < 0) {
        firstOffset = baseOffset;
        epoch = Math.max(0, batches.readInt32BE(pos + BatchField.partitionLeaderEpoch));
      }
      timestamp = batches.readBigInt64BE(pos + BatchField.maxTimestamp);
      entries += count;
      expected = lastOffset + 1;
      nextOffset = lastOffset + 1;
      pos = batchEnd;
      if (subEntry >= 0) break;
    }
    if (entries === 0) return { frame: undefined, next: pos, nextOffset };
    const messages = this.scratch.subarray(0, dataLength);
    const payload = subEntry === Compression.gzip ? gzipSync(messages) : messages;
    const entryHeader = subEntry >= 0 ? SUB_ENTRY_HEADER : 0;
    const prefix = options.version >= 2 ? DELIVER_PREFIX + 8 : DELIVER_PREFIX;
    const frame = Buffer.allocUnsafe(prefix + CHUNK_HEADER_SIZE + entryHeader + payload.length);
    frame.writeUInt32BE(frame.length - 4, 0);
    frame.writeUInt16BE(Command.deliver, 4);
    frame.writeUInt16BE(options.version >= 2 ? 2 : 1, 6);
    frame[8] = subscriptionId;
    if (options.version >= 2) frame.writeBigUInt64BE(BigInt(Math.max(0, options.committedChunkId)), DELIVER_PREFIX);
    const chunk = prefix;
    const data = chunk + CHUNK_HEADER_SIZE;
    if (subEntry >= 0) {
      frame[data] = SUB_ENTRY_FLAG | (subEntry << 4);
      frame.writeUInt16BE(entries, data + 1);
      frame.writeUInt32BE(dataLength, data + 3);
      frame.writeUInt32BE(payload.length, data + 7);
    }
    payload.copy(frame, data + entryHeader);
    frame[chunk] = OSIRIS_MAGIC_VERSION;
    frame[chunk + 1] = 0; // user chunk
    frame.writeUInt16BE(subEntry >= 0 ? 1 : entries, chunk + 2);
    frame.writeUInt32BE(entries, chunk + 4);
    frame.writeBigInt64BE(timestamp, chunk + 8);
    frame.writeBigUInt64BE(BigInt(epoch), chunk + 16);
    frame.writeBigUInt64BE(BigInt(firstOffset), chunk + 24);
    frame.writeInt32BE(crc32(frame.subarray(data)) | 0, chunk + 32);
    frame.writeUInt32BE(frame.length - data, chunk + 36);
    frame.writeUInt32BE(0, chunk + 40); // trailer length
    frame.writeUInt32BE(0, chunk + 44); // bloom size and reserved
    return { frame, next: pos, nextOffset };
  }

  private reserve(bytes: number): void {
    if (bytes <= this.scratch.length) return;
    const grown = Buffer.allocUnsafe(Math.max(bytes, this.scratch.length * 2, FIRST_SCRATCH_BYTES));
    this.scratch.copy(grown);
    this.scratch = grown;
  }
}
