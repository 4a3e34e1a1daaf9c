import { crc32 } from 'node:zlib';
import { BatchField, COMPRESSION_MASK, CONTROL_FLAG, decompress, StreamEntryEncoder, VarintReader } from '../../core/index.ts';
import { Command } from './protocol.ts';

/** Osiris chunk header: magic/version, type, entries, records, timestamp, epoch, first offset, crc, data length, trailer length, bloom size, reserved. */
const CHUNK_HEADER_SIZE = 48;
/** Frame size, key, version, subscription id. */
const DELIVER_PREFIX = 4 + 2 + 2 + 1;
const OSIRIS_MAGIC_VERSION = 0x50;

/**
 * One stored record batch as one Deliver frame: its records become an osiris user chunk of simple
 * entries, each an AMQP 1.0 message built around the stored body (one buffer per chunk, no object per
 * record). Returns undefined for a batch a stream consumer does not see (a transaction marker).
 */
export class ChunkEncoder {
  private readonly entries = new StreamEntryEncoder();

  encode(subscriptionId: number, batches: Buffer, pos: number): Buffer | undefined {
    const attributes = batches.readInt16BE(pos + BatchField.attributes);
    if ((attributes & CONTROL_FLAG) !== 0) return undefined;
    const batchEnd = pos + 12 + batches.readInt32BE(pos + BatchField.batchLength);
    const count = batches.readInt32BE(pos + BatchField.recordCount);
    let records = batches;
    let start = pos + BatchField.records;
    let end = batchEnd;
    if ((attributes & COMPRESSION_MASK) !== 0) {
      records = decompress(attributes & COMPRESSION_MASK, batches.subarray(start, batchEnd));
      start = 0;
      end = records.length;
    }
    const reader = new VarintReader(records, start, end);
    let dataLength = 0;
    for (let i = 0; i < count; i++) {
      const length = reader.varint();
      const recordStart = reader.offset;
      dataLength += 4 + this.entries.measure(records, recordStart, recordStart + length);
      reader.offset = recordStart + length;
    }
    const frame = Buffer.allocUnsafe(DELIVER_PREFIX + CHUNK_HEADER_SIZE + dataLength);
    frame.writeUInt32BE(frame.length - 4, 0);
    frame.writeUInt16BE(Command.deliver, 4);
    frame.writeUInt16BE(1, 6);
    frame[8] = subscriptionId;
    const chunk = DELIVER_PREFIX;
    frame[chunk] = OSIRIS_MAGIC_VERSION;
    frame[chunk + 1] = 0; // user chunk
    frame.writeUInt16BE(count, chunk + 2);
    frame.writeUInt32BE(count, chunk + 4);
    frame.writeBigInt64BE(batches.readBigInt64BE(pos + BatchField.maxTimestamp), chunk + 8);
    frame.writeBigUInt64BE(BigInt(Math.max(0, batches.readInt32BE(pos + BatchField.partitionLeaderEpoch))), chunk + 16);
    frame.writeBigUInt64BE(batches.readBigUInt64BE(pos + BatchField.baseOffset), chunk + 24);
    frame.writeUInt32BE(dataLength, chunk + 36);
    frame.writeUInt32BE(0, chunk + 40); // trailer length
    frame.writeUInt32BE(0, chunk + 44); // bloom size and reserved
    let out = chunk + CHUNK_HEADER_SIZE;
    reader.offset = start;
    for (let i = 0; i < count; i++) {
      const length = reader.varint();
      const recordStart = reader.offset;
      const size = this.entries.measure(records, recordStart, recordStart + length);
      frame.writeUInt32BE(size, out); // simple entry: top bit 0, then the size
      out = this.entries.write(records, frame, out + 4);
      reader.offset = recordStart + length;
    }
    frame.writeInt32BE(crc32(frame.subarray(chunk + CHUNK_HEADER_SIZE)) | 0, chunk + 32);
    return frame;
  }
}
