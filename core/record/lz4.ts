import { BrokerError } from '../errors.ts';

const FRAME_MAGIC = 0x184d2204;
const FLAG_VERSION_MASK = 0xc0;
const FLAG_VERSION_01 = 0x40;
const FLAG_BLOCK_CHECKSUM = 0x10;
const FLAG_CONTENT_SIZE = 0x08;
const FLAG_CONTENT_CHECKSUM = 0x04;
const FLAG_DICT_ID = 0x01;
const UNCOMPRESSED_BLOCK = 0x80000000;
const MIN_MATCH = 4;
/** The most one input byte can yield: each 255 of a match length's extra bytes adds 255 bytes of output. */
const MAX_EXPANSION = 256;

/**
 * Decompresses LZ4 frames (the format Kafka clients write for codec 3). Checksums inside the frame are
 * skipped: the batch's CRC-32C already covers these bytes. CORRUPT_RECORD for bad input or past `maxBytes`.
 */
export function lz4Decompress(src: Buffer, maxBytes: number): Buffer {
  const out = new GrowingOutput(Math.min(maxBytes, MAX_EXPANSION * src.length), src.length);
  let pos = 0;
  do pos = decodeFrame(src, pos, out);
  while (pos < src.length);
  return out.bytes();
}

function decodeFrame(src: Buffer, start: number, out: GrowingOutput): number {
  if (src.length - start < 7 || src.readUInt32LE(start) !== FRAME_MAGIC) throw corrupt('not an LZ4 frame');
  const flags = src[start + 4]!;
  if ((flags & FLAG_VERSION_MASK) !== FLAG_VERSION_01) throw corrupt('unsupported LZ4 frame version');
  if (flags & FLAG_DICT_ID) throw corrupt('LZ4 frames with a dictionary are not supported');
  let pos = start + 6;
  if (flags & FLAG_CONTENT_SIZE) {
    if (src.length - pos < 8) throw corrupt('truncated LZ4 frame header');
    out.reserve(Number(src.readBigUInt64LE(pos)));
    pos += 8;
  }
  pos += 1; // header checksum
  const blockChecksum = flags & FLAG_BLOCK_CHECKSUM ? 4 : 0;
  for (;;) {
    if (src.length - pos < 4) throw corrupt('truncated LZ4 block');
    const word = src.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & ~UNCOMPRESSED_BLOCK;
    if (size > src.length - pos) throw corrupt('LZ4 block runs past the data');
    if (word & UNCOMPRESSED_BLOCK) out.write(src, pos, pos + size);
    else decodeBlock(src, pos, pos + size, out);
    pos += size + blockChecksum;
  }
  return pos + (flags & FLAG_CONTENT_CHECKSUM ? 4 : 0);
}

/** One LZ4 block: sequences of literals then a match, which may reach back into earlier blocks. */
function decodeBlock(src: Buffer, start: number, end: number, out: GrowingOutput): void {
  let pos = start;
  for (;;) {
    if (pos >= end) throw corrupt('truncated LZ4 sequence');
    const token = src[pos++]!;
    let literal = token >>> 4;
    if (literal === 15) {
      let byte: number;
      do {
        if (pos >= end) throw corrupt('truncated LZ4 literal length');
        byte = src[pos++]!;
        literal += byte;
      } while (byte === 255);
    }
    if (literal > end - pos) throw corrupt('LZ4 literals run past the block');
    out.write(src, pos, pos + literal);
    pos += literal;
    if (pos === end) return;
    if (end - pos < 2) throw corrupt('truncated LZ4 match offset');
    const offset = src[pos]! | (src[pos + 1]! << 8);
    pos += 2;
    let match = token & 15;
    if (match === 15) {
      let byte: number;
      do {
        if (pos >= end) throw corrupt('truncated LZ4 match length');
        byte = src[pos++]!;
        match += byte;
      } while (byte === 255);
    }
    out.copyBack(offset, match + MIN_MATCH);
  }
}

/** The decompressed bytes so far, in one buffer that doubles as needed up to a limit. */
class GrowingOutput {
  private buf: Buffer;
  private length = 0;

  constructor(
    private readonly limit: number,
    inputSize: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.min(limit, Math.max(64 * 1024, inputSize * 4)));
  }

  reserve(total: number): void {
    if (total > this.limit) throw corrupt(`LZ4 data of ${total} bytes exceeds ${this.limit}`);
    this.ensure(total - this.length);
  }

  write(src: Buffer, from: number, to: number): void {
    this.ensure(to - from);
    this.length += src.copy(this.buf, this.length, from, to);
  }

  copyBack(offset: number, count: number): void {
    if (offset === 0 || offset > this.length) throw corrupt('LZ4 match offset out of range');
    this.ensure(count);
    const buf = this.buf;
    let at = this.length;
    for (const end = at + count; at < end; at++) buf[at] = buf[at - offset]!;
    this.length = at;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  private ensure(more: number): void {
    const needed = this.length + more;
    if (needed <= this.buf.length) return;
    if (needed > this.limit) throw corrupt(`LZ4 data exceeds ${this.limit} bytes`);
    const bigger = Buffer.allocUnsafe(Math.min(this.limit, Math.max(needed, this.buf.length * 2)));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }
}

function corrupt(message: string): BrokerError {
  return new BrokerError('CORRUPT_RECORD', message);
}
