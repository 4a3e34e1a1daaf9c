/** A file that holds a descriptor it can give back (close) and take again on its next use. */
export interface CachedFile {
  /** Links of the cache's recency list; only the cache sets them. */
  newer: CachedFile | undefined;
  older: CachedFile | undefined;
  /** Closes the descriptor (synchronously); the file reopens on its next use. */
  release(): void;
}

/**
 * The segment files holding a descriptor, at most `capacity` of them: opening one more closes the least
 * recently used. A file taken out (`hold`) while an asynchronous call on its descriptor is under way (a sync, a
 * close) is never closed by the cache; it counts against the capacity until `unhold` lists it again.
 * Everything is O(1) pointer moves: a use on the hot path allocates nothing.
 */
export class DescriptorCache {
  private newest: CachedFile | undefined;
  private oldest: CachedFile | undefined;
  private listed = 0;
  private held = 0;
  /** Descriptors closed to make room, since the start (for tests and diagnostics). */
  evictions = 0;

  constructor(readonly capacity: number) {}

  /** Descriptors the cache accounts for: listed files and held ones. */
  get open(): number {
    return this.listed + this.held;
  }

  /** A file that just took a descriptor: listed as the most recent, after room is made for it. */
  opened(file: CachedFile): void {
    this.makeRoom(1);
    this.pushNewest(file);
  }

  /** A use of a listed file: it becomes the most recent. */
  touch(file: CachedFile): void {
    if (this.newest === file) return;
    this.unlink(file);
    this.pushNewest(file);
  }

  /** Takes a listed file out while its descriptor is in use by an asynchronous call. */
  hold(file: CachedFile): void {
    this.unlink(file);
    this.held++;
  }

  /** A held file's call finished: listed again as the most recent if `relist` (not when it is closing). */
  unhold(file: CachedFile, relist: boolean): void {
    this.held--;
    if (!relist) return;
    this.makeRoom(1);
    this.pushNewest(file);
  }

  /** A listed file that gave its descriptor back by itself (closed, or pinned because its name is gone). */
  forget(file: CachedFile): void {
    this.unlink(file);
  }

  private makeRoom(needed: number): void {
    while (this.oldest !== undefined && this.listed + this.held + needed > this.capacity) {
      const victim = this.oldest;
      this.unlink(victim);
      this.evictions++;
      victim.release();
    }
  }

  private pushNewest(file: CachedFile): void {
    file.older = this.newest;
    file.newer = undefined;
    if (this.newest) this.newest.newer = file;
    else this.oldest = file;
    this.newest = file;
    this.listed++;
  }

  private unlink(file: CachedFile): void {
    if (file.newer === undefined && file.older === undefined && this.newest !== file) return;
    if (file.newer) file.newer.older = file.older;
    else this.newest = file.older;
    if (file.older) file.older.newer = file.newer;
    else this.oldest = file.newer;
    file.newer = file.older = undefined;
    this.listed--;
  }
}
