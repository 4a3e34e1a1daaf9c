import { BrokerError } from '../errors.ts';

/** snappy-java's stream header, which Kafka's Java client writes before its snappy blocks. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
/** The most one input byte can yield: a 3-byte copy element writes at most 64 bytes. */
const MAX_EXPANSION = 22;

/**
 * Decompresses a snappy-compressed batch body: either one raw snappy block (librdkafka, Sarama, kafkajs)
 * or snappy-java's framing (header, then length-prefixed blocks). CORRUPT_RECORD for bad input or past `maxBytes`.
 */
export function snappyDecompress(src: Buffer, maxBytes: number): Buffer {
  if (src.length < XERIAL_HEADER_SIZE || !src.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) return decodeBlock(src, maxBytes);
  const blocks: Buffer[] = [];
  let total = 0;
  for (let pos = XERIAL_HEADER_SIZE; pos < src.length; ) {
    if (src.length - pos < 4) throw corrupt('truncated xerial block length');
    const length = src.readUInt32BE(pos);
    pos += 4;
    if (length > src.length - pos) throw corrupt('xerial block runs past the data');
    const block = decodeBlock(src.subarray(pos, pos + length), maxBytes - total);
    blocks.push(block);
    total += block.length;
    pos += length;
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks, total);
}

/** One raw snappy block: a varint of the uncompressed length, then literal and copy elements. */
function decodeBlock(src: Buffer, maxBytes: number): Buffer {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= src.length || shift > 28) throw corrupt('bad snappy length');
    const byte = src[pos++]!;
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
  }
  if (length > maxBytes) throw corrupt(`snappy data of ${length} bytes exceeds ${maxBytes}`);
  if (length > MAX_EXPANSION * src.length) throw corrupt(`${src.length} snappy bytes cannot hold ${length}`);
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  while (pos < src.length) {
    const tag = src[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let literal = tag >>> 2;
      if (literal >= 60) {
        const bytes = literal - 59;
        if (pos + bytes > src.length) throw corrupt('truncated snappy literal length');
        literal = src.readUIntLE(pos, bytes);
        pos += bytes;
      }
      literal += 1;
      if (literal > src.length - pos || literal > length - at) throw corrupt('snappy literal runs past its bounds');
      src.copy(out, at, pos, pos + literal);
      pos += literal;
      at += literal;
      continue;
    }
    let copy: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= src.length) throw corrupt('truncated snappy copy');
      copy = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | src[pos++]!;
    } else {
      const bytes = kind === 2 ? 2 : 4;
      if (pos + bytes > src.length) throw corrupt('truncated snappy copy');
      copy = 1 + (tag >>> 2);
      offset = src.readUIntLE(pos, bytes);
      pos += bytes;
    }
    if (offset === 0 || offset > at || copy > length - at) throw corrupt('snappy copy out of range');
    for (let end = at + copy; at < end; at++) out[at] = out[at - offset]!;
  }
  if (at !== length) throw corrupt(`snappy data holds ${at} bytes, its header says ${length}`);
  return out;
}

function corrupt(message: string): BrokerError {
  return new BrokerError('CORRUPT_RECORD', message);
}
