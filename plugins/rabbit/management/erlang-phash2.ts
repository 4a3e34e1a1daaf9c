/**
 * erlang:phash2/2 with a range of 2^32 (the VM's make_hash2: Bob Jenkins' lookup2 mixing over the term's
 * structure), for the few term kinds an AMQP field table becomes in RabbitMQ. Written from the algorithm's
 * description in erts/emulator/beam/utils.c; checked against `erl` in erlang-phash2.test.ts.
 */
export type ErlangTerm =
  | { kind: 'atom'; name: string }
  | { kind: 'binary'; bytes: Buffer }
  | { kind: 'integer'; value: bigint }
  | { kind: 'float'; value: number }
  | { kind: 'tuple'; elements: readonly ErlangTerm[] }
  | { kind: 'list'; elements: readonly ErlangTerm[] };

export const atom = (name: string): ErlangTerm => ({ kind: 'atom', name });
export const binary = (bytes: Buffer): ErlangTerm => ({ kind: 'binary', bytes });
export const integer = (value: number | bigint): ErlangTerm => ({ kind: 'integer', value: BigInt(value) });
export const float = (value: number): ErlangTerm => ({ kind: 'float', value });
export const tuple = (...elements: ErlangTerm[]): ErlangTerm => ({ kind: 'tuple', elements });
export const list = (elements: readonly ErlangTerm[]): ErlangTerm => ({ kind: 'list', elements });

const HCONST = 0x9e3779b9;
const HCONST_2 = 0x3c6ef372;
const HCONST_3 = 0xdaa66d2b;
const HCONST_4 = 0x78dde6e4;
const HCONST_9 = 0x8ff34781;
const HCONST_10 = 0x2e2ac13a;
const HCONST_11 = 0xcc623af3;
const HCONST_12 = 0x6a99b4ac;
const HCONST_13 = 0x08d12e65;
/** make_hash2 of [] alone. */
const EMPTY_LIST_HASH = 3468870702;
/** What make_hash2 mixes for [] after other terms (its NIL_DEF). */
const NIL_WORD = 2;
const SMALL28_MIN = -(2n ** 27n);
const SMALL28_MAX = 2n ** 27n - 1n;
const MASK64 = 2n ** 64n - 1n;

/** erlang:phash2(Term, 1 bsl 32). */
export function phash2(term: ErlangTerm): number {
  const state = new Hasher();
  state.term(term);
  return state.hash >>> 0;
}

class Hasher {
  hash = 0;

  term(t: ErlangTerm): void {
    switch (t.kind) {
      case 'atom':
        if (this.hash === 0) this.hash = atomHash(t.name);
        else this.uint32(atomHash(t.name), HCONST_3);
        return;
      case 'binary': {
        const seed = (HCONST_13 + this.hash) >>> 0;
        this.hash = t.bytes.length === 0 ? seed : blockHash(t.bytes, seed);
        return;
      }
      case 'integer':
        return this.integer(t.value);
      case 'float': {
        const bytes = Buffer.alloc(8);
        bytes.writeDoubleLE(t.value === 0 ? 0 : t.value);
        this.uint32Pair(bytes.readUInt32LE(4), bytes.readUInt32LE(0), HCONST_12);
        return;
      }
      case 'tuple':
        this.uint32(t.elements.length, HCONST_9);
        for (const element of t.elements) this.term(element);
        return;
      case 'list':
        return this.list(t.elements);
    }
  }

  /** Runs of bytes (small integers 0-255) are hashed four at a time, as the VM does for strings. */
  private list(elements: readonly ErlangTerm[]): void {
    for (let i = 0; i < elements.length; ) {
      let count = 0;
      let packed = 0;
      while (i < elements.length && isByte(elements[i]!)) {
        packed = ((packed << 8) + Number((elements[i] as { value: bigint }).value)) >>> 0;
        if (count === 3) {
          this.uint32(packed, HCONST_4);
          count = packed = 0;
        } else count++;
        i++;
      }
      if (count > 0) this.uint32(packed, HCONST_4);
      if (i < elements.length) this.term(elements[i++]!);
    }
    if (this.hash === 0) this.hash = EMPTY_LIST_HASH;
    else this.uint32(NIL_WORD, HCONST_2);
  }

  private integer(value: bigint): void {
    if (value >= SMALL28_MIN && value <= SMALL28_MAX) {
      const y = Number(value) | 0;
      if (y < 0) this.uint32(-y >>> 0, HCONST);
      this.uint32(y >>> 0, HCONST);
      return;
    }
    const con = value < 0n ? HCONST_10 : HCONST_11;
    let magnitude = value < 0n ? -value : value;
    do {
      const digit = magnitude & MASK64;
      this.uint32Pair(Number(digit & 0xffffffffn), Number(digit >> 32n), con);
      magnitude >>= 64n;
    } while (magnitude > 0n);
  }

  private uint32(x: number, constant: number): void {
    this.uint32Pair(x, 0, constant);
  }

  private uint32Pair(x: number, y: number, constant: number): void {
    this.hash = mix3((constant + x) >>> 0, (constant + y) >>> 0, this.hash)[2];
  }
}

function isByte(t: ErlangTerm): boolean {
  return t.kind === 'integer' && t.value >= 0n && t.value <= 255n;
}

/** lookup2 over a byte block, 12 bytes a round, seeded with `initval`. */
function blockHash(bytes: Buffer, initval: number): number {
  let a = HCONST;
  let b = HCONST;
  let c = initval;
  let at = 0;
  for (; bytes.length - at >= 12; at += 12) {
    a = (a + bytes.readUInt32LE(at)) >>> 0;
    b = (b + bytes.readUInt32LE(at + 4)) >>> 0;
    c = (c + bytes.readUInt32LE(at + 8)) >>> 0;
    [a, b, c] = mix3(a, b, c);
  }
  c = (c + bytes.length) >>> 0;
  const rest = bytes.length - at;
  // The tail's bytes go to a (0-3), b (4-7) and c's upper three bytes (8-10): the low byte of c holds the length.
  for (let i = rest - 1; i >= 0; i--) {
    const v = bytes[at + i]!;
    if (i >= 8) c = (c + v * 2 ** (8 * (i - 7))) >>> 0;
    else if (i >= 4) b = (b + v * 2 ** (8 * (i - 4))) >>> 0;
    else a = (a + v * 2 ** (8 * i)) >>> 0;
  }
  return mix3(a, b, c)[2];
}

/** Bob Jenkins' lookup2 mix. */
function mix3(a: number, b: number, c: number): [number, number, number] {
  a = (a - b - c) >>> 0; a = (a ^ (c >>> 13)) >>> 0;
  b = (b - c - a) >>> 0; b = (b ^ (a << 8)) >>> 0;
  c = (c - a - b) >>> 0; c = (c ^ (b >>> 13)) >>> 0;
  a = (a - b - c) >>> 0; a = (a ^ (c >>> 12)) >>> 0;
  b = (b - c - a) >>> 0; b = (b ^ (a << 16)) >>> 0;
  c = (c - a - b) >>> 0; c = (c ^ (b >>> 5)) >>> 0;
  a = (a - b - c) >>> 0; a = (a ^ (c >>> 3)) >>> 0;
  b = (b - c - a) >>> 0; b = (b ^ (a << 10)) >>> 0;
  c = (c - a - b) >>> 0; c = (c ^ (b >>> 15)) >>> 0;
  return [a, b, c];
}

/** The atom table's hash of an atom's name (hashpjw over its bytes, two-byte UTF-8 Latin-1 characters as one). */
function atomHash(name: string): number {
  const bytes = Buffer.from(name, 'utf8');
  let h = 0;
  for (let i = 0; i < bytes.length; i++) {
    let v = bytes[i]!;
    if (i + 1 < bytes.length && (v & 0xfe) === 0xc2 && (bytes[i + 1]! & 0xc0) === 0x80) {
      v = ((v << 6) | (bytes[i + 1]! & 0x3f)) & 0xff;
      i++;
    }
    h = ((h << 4) + v) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) {
      h = (h ^ (g >>> 24)) >>> 0;
      h = (h ^ g) >>> 0;
    }
  }
  return h;
}
