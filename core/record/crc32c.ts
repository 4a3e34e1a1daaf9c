import { createRequire } from 'node:module';

type NativeCrc = (input: Uint8Array, initialState?: number) => number;

const TABLES = buildSlicingTables();

/** Table-driven CRC-32C (Castagnoli), slicing-by-8: the fallback and the fast path for short inputs. */
export function crc32cJs(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let crc = 0xffffffff;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = (crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    crc =
      t7![lo & 0xff]! ^
      t6![(lo >>> 8) & 0xff]! ^
      t5![(lo >>> 16) & 0xff]! ^
      t4![lo >>> 24]! ^
      t3![bytes[i + 4]!]! ^
      t2![bytes[i + 5]!]! ^
      t1![bytes[i + 6]!]! ^
      t0![bytes[i + 7]!]!;
  }
  for (; i < end; i++) crc = t0![(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const native = loadNative();
/** Below this length the JS tables beat the native call's overhead (measured: bench/crc32c.ts). */
const NATIVE_THRESHOLD = 512;

/** CRC-32C of bytes[start, end). */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (native === undefined || end - start < NATIVE_THRESHOLD) return crc32cJs(bytes, start, end);
  return native(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)) >>> 0;
}

export const crc32cImplementation: 'native' | 'js' = native === undefined ? 'js' : 'native';

function loadNative(): NativeCrc | undefined {
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: NativeCrc };
    const fn = mod.crc32c;
    return typeof fn === 'function' && fn(Buffer.from('123456789')) >>> 0 === 0xe3069283 ? fn : undefined;
  } catch {
    return undefined;
  }
}

function buildSlicingTables(): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const t0 = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t0[n]!;
    for (let k = 1; k < 8; k++) {
      c = t0[c & 0xff]! ^ (c >>> 8);
      tables[k]![n] = c >>> 0;
    }
  }
  return tables;
}
