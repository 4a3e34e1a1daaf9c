import { ZSTDDecoder } from 'zstddec';
import { BrokerError } from '../errors.ts';

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC = 0x184d2a50;
const MAX_BLOCK_SIZE = 128 * 1024;
const FCS_BYTES = [0, 2, 4, 8];
const DICT_ID_BYTES = [0, 1, 2, 4];

/**
 * The reference zstd decoder compiled to WebAssembly: it holds up against forged input. Where fetch()
 * exists, zstddec loads its module through fetch() of a data: URL, and in Node that first use of
 * undici stalls the event loop for tens of milliseconds later on; without fetch it instantiates the
 * module from a Buffer. init() reads `fetch` synchronously, so hiding it for that call is enough.
 */
const decoder = new ZSTDDecoder();
const fetchOfNode = globalThis.fetch;
(globalThis as { fetch?: typeof fetch }).fetch = undefined;
const ready = decoder.init();
globalThis.fetch = fetchOfNode;
await ready;

/**
 * Decompresses zstd frames. Their frame and block headers are walked here first, so the decoder gets
 * an output buffer no larger than the frames can fill and never more than `maxBytes`.
 */
export function zstdDecompress(src: Buffer, maxBytes: number): Buffer {
  const bound = checkFrames(src);
  if (bound > maxBytes) throw corrupt(`zstd data may hold ${bound} bytes, more than ${maxBytes}`);
  if (bound === 0) return Buffer.alloc(0);
  // The decoder answers a failure with no bytes; every frame that reaches it holds at least one block.
  const out = decoder.decode(src, bound);
  if (out.length === 0) throw corrupt('zstd data does not decode');
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** Walks every frame's headers; returns the most the frames can decompress to. */
function checkFrames(src: Buffer): number {
  let bound = 0;
  let pos = 0;
  do {
    if (src.length - pos < 8) throw corrupt('truncated zstd frame');
    const magic = src.readUInt32LE(pos);
    if ((magic & 0xfffffff0) === SKIPPABLE_MAGIC) {
      pos += 8 + src.readUInt32LE(pos + 4);
      if (pos > src.length) throw corrupt('truncated skippable zstd frame');
      continue;
    }
    if (magic !== FRAME_MAGIC) throw corrupt('not a zstd frame');
    const descriptor = src[pos + 4]!;
    const singleSegment = (descriptor & 0x20) !== 0;
    if (descriptor & 0x08) throw corrupt('reserved zstd frame header bit set');
    if (descriptor & 0x03) throw corrupt('zstd frames with a dictionary are not supported');
    pos += 5;
    let windowSize = Number.POSITIVE_INFINITY;
    if (!singleSegment) {
      const window = src[pos++]!;
      const windowLog = 10 + (window >>> 3);
      windowSize = 2 ** windowLog + (2 ** windowLog / 8) * (window & 7);
    }
    const fcsFlag = descriptor >>> 6;
    const fcsBytes = fcsFlag === 0 && singleSegment ? 1 : FCS_BYTES[fcsFlag]!;
    if (src.length - pos < fcsBytes + DICT_ID_BYTES[0]!) throw corrupt('truncated zstd frame header');
    let contentSize = -1;
    if (fcsBytes > 0) {
      contentSize = fcsBytes === 8 ? Number(src.readBigUInt64LE(pos)) : src.readUIntLE(pos, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
      pos += fcsBytes;
      if (singleSegment) windowSize = contentSize;
    }
    const blockMax = Math.min(windowSize, MAX_BLOCK_SIZE);
    let frameBound = 0;
    for (let last = false; !last; ) {
      if (src.length - pos < 3) throw corrupt('truncated zstd block header');
      const header = src.readUIntLE(pos, 3);
      pos += 3;
      last = (header & 1) === 1;
      const type = (header >>> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw corrupt('reserved zstd block type');
      if (size > blockMax) throw corrupt('zstd block larger than the frame allows');
      const stored = type === 1 ? 1 : size;
      if (stored > src.length - pos) throw corrupt('zstd block runs past the data');
      pos += stored;
      frameBound += type === 2 ? blockMax : size;
    }
    if (descriptor & 0x04) pos += 4;
    if (pos > src.length) throw corrupt('truncated zstd checksum');
    if (contentSize > frameBound) throw corrupt('zstd frame claims more content than its blocks hold');
    bound += contentSize >= 0 ? contentSize : frameBound;
  } while (pos < src.length);
  return bound;
}

function corrupt(message: string): BrokerError {
  return new BrokerError('CORRUPT_RECORD', message);
}
