/**
 * The compactor's map from a record key to the last offset it was seen at (Kafka's SkimpyOffsetMap, but
 * exact: keys are compared byte for byte, never trusted to a hash). Open addressing over typed arrays, keys
 * copied into one growing byte arena: no object or string per key, so millions of keys cost the
 * collector nothing.
 */
export class KeyOffsetMap {
  private slots: Int32Array;
  private hashes: Int32Array;
  private keyStarts: Int32Array;
  private keyLengths: Int32Array;
  private offsets: Float64Array;
  private arena: Buffer;
  private arenaUsed = 0;
  size = 0;

  constructor(
    /** Keys it holds at most: put() refuses more. */
    readonly maxKeys: number,
    initialKeys = 1024,
  ) {
    const entries = Math.min(initialKeys, maxKeys);
    this.slots = new Int32Array(tableSizeFor(entries));
    this.hashes = new Int32Array(entries);
    this.keyStarts = new Int32Array(entries);
    this.keyLengths = new Int32Array(entries);
    this.offsets = new Float64Array(entries);
    this.arena = Buffer.allocUnsafe(entries * 16);
  }

  get full(): boolean {
    return this.size >= this.maxKeys;
  }

  /** The last offset recorded for `key`, or -1. */
  get(key: Buffer): number {
    const entry = this.find(key, hashOf(key));
    return entry < 0 ? -1 : this.offsets[entry]!;
  }

  /** Records `offset` as the latest for `key`; false if the key is new and the map is full (unless `unbounded`). */
  put(key: Buffer, offset: number, unbounded = false): boolean {
    const hash = hashOf(key);
    const found = this.find(key, hash);
    if (found >= 0) {
      this.offsets[found] = offset;
      return true;
    }
    if (this.full && !unbounded) return false;
    if (this.size === this.offsets.length) this.grow();
    const entry = this.size++;
    if (this.arenaUsed + key.length > this.arena.length) this.growArena(key.length);
    key.copy(this.arena, this.arenaUsed);
    this.keyStarts[entry] = this.arenaUsed;
    this.keyLengths[entry] = key.length;
    this.arenaUsed += key.length;
    this.hashes[entry] = hash;
    this.offsets[entry] = offset;
    this.insert(entry, hash);
    return true;
  }

  private find(key: Buffer, hash: number): number {
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]! - 1;
      if (entry < 0) return -1;
      if (this.hashes[entry] === hash && this.keyLengths[entry] === key.length) {
        if (this.sameKey(key, this.keyStarts[entry]!)) return entry;
      }
    }
  }

  private sameKey(key: Buffer, start: number): boolean {
    if (key.length > 32) return this.arena.compare(key, 0, key.length, start, start + key.length) === 0;
    for (let i = 0; i < key.length; i++) if (this.arena[start + i] !== key[i]) return false;
    return true;
  }

  private insert(entry: number, hash: number): void {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = entry + 1;
  }

  private grow(): void {
    const entries = this.offsets.length * 2;
    const widen = <T extends Int32Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(entries);
      next.set(old);
      return next;
    };
    this.hashes = widen(this.hashes, (n) => new Int32Array(n));
    this.keyStarts = widen(this.keyStarts, (n) => new Int32Array(n));
    this.keyLengths = widen(this.keyLengths, (n) => new Int32Array(n));
    this.offsets = widen(this.offsets, (n) => new Float64Array(n));
    this.slots = new Int32Array(tableSizeFor(entries));
    for (let entry = 0; entry < this.size; entry++) this.insert(entry, this.hashes[entry]!);
  }

  private growArena(needed: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.arenaUsed + needed));
    this.arena.copy(next, 0, 0, this.arenaUsed);
    this.arena = next;
  }
}

/** A power of two at least a third larger than `entries`: the table stays under 75 % full. */
function tableSizeFor(entries: number): number {
  let size = 16;
  while (size * 0.75 < entries) size *= 2;
  return size;
}

/** FNV-1a over the key's bytes. */
function hashOf(key: Buffer): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key[i]!, 0x01000193);
  return hash | 0;
}
