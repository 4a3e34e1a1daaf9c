import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { BrokerError, type SegmentFile, type SegmentStore } from '../../core/index.ts';
import { DescriptorCache, type CachedFile } from './descriptor-cache.ts';
import { TransientOpens } from './transient-opens.ts';

const fdatasync = promisify(fs.fdatasync);
const fsync = promisify(fs.fsync);
const openFd = promisify(fs.open);
let temporaryCounter = 0;
const fstat = promisify(fs.fstat);

/** Short-lived descriptors (small files, directories) open at once. */
export const TRANSIENT_OPENS = 16;

/** What a segment file needs of its store. */
interface SegmentFileOwner {
  readonly descriptors: DescriptorCache;
  /** fdatasyncs under way at once: each holds a descriptor the cache may not close, so at most half of them. */
  readonly syncs: TransientOpens;
  syncDirectory(dir: string): Promise<void>;
  closed(file: FsSegmentFile): void;
}

export interface FsSegmentStoreOptions {
  /** Segment files holding a descriptor at once; the least recently used is closed to open another (default: no bound). */
  openFiles?: number;
}

/**
 * A segment file on disk. Appends and reads are positional system calls into the page cache, on the
 * event loop (they do not wait for the disk); sync is an fdatasync on the thread pool.
 *
 * Its descriptor comes from the store's DescriptorCache: an idle file may have it closed and reopens the file
 * by path (renames follow it) on its next use. A sync after such a close still covers every byte appended
 * before it: fdatasync flushes the file's dirty pages whichever descriptor asks, and Linux reports a writeback
 * error not yet seen to a descriptor opened after it.
 */
export class FsSegmentFile implements SegmentFile, CachedFile {
  newer: CachedFile | undefined;
  older: CachedFile | undefined;
  private dirSynced: boolean;
  private fd: number;
  /** Asynchronous calls using the descriptor now: while any is, the cache does not close it. */
  private inFlight = 0;
  private closing = false;
  /** Its name was deleted or replaced while it held a descriptor: it keeps that descriptor to the end. */
  private pinned = false;
  /** Its name was deleted or replaced while it held no descriptor: nothing is left to reopen. */
  private gone = false;
  /** Appends and truncations so far, and how many of them a finished sync covered. */
  private writes = 0;
  private syncedWrites = 0;
  private whenIdle: (() => void) | undefined;
  private readonly cache: DescriptorCache;

  constructor(
    readonly name: string,
    fd: number,
    public size: number,
    /** Where the file is now (renames move it). */
    public filePath: string,
    private readonly owner: SegmentFileOwner,
    isNew: boolean,
    readonly lastModified?: number,
  ) {
    this.fd = fd;
    this.dirSynced = !isNew;
    this.cache = owner.descriptors;
    this.cache.opened(this);
  }

  append(data: Buffer | readonly Buffer[]): void {
    const fd = this.descriptor();
    let position = this.size;
    this.writes++;
    try {
      for (const chunk of Buffer.isBuffer(data) ? [data] : data) {
        for (let at = 0; at < chunk.length; ) {
          const n = fs.writeSync(fd, chunk, at, chunk.length - at, position);
          at += n;
          position += n;
        }
      }
    } catch (err) {
      // Nothing of a failed append stays: the next one starts where this one did (ftruncate needs no space).
      if (position > this.size) {
        try {
          fs.ftruncateSync(fd, this.size);
        } catch {
          // the append's own error says more
        }
      }
      throw io(`append to ${this.name}`, err);
    }
    this.size = position;
  }

  /** Appends are written with writeSync before append() returns. */
  readonly appendCopies = true;

  read(position: number, length: number): Buffer {
    const end = Math.min(position + length, this.size);
    if (position >= end) return Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(end - position);
    this.readInto(buf, position);
    return buf;
  }

  readInto(target: Buffer, position: number): number {
    const length = Math.max(0, Math.min(target.length, this.size - position));
    if (length === 0) return 0;
    const fd = this.descriptor();
    for (let got = 0; got < length; ) {
      const n = fs.readSync(fd, target, got, length - got, position + got);
      if (n === 0) throw new BrokerError('STORAGE_IO', `${this.name} ended at ${position + got}, expected ${position + length}`);
      got += n;
    }
    return length;
  }

  truncate(size: number): void {
    const fd = this.descriptor();
    this.writes++;
    fs.ftruncateSync(fd, size);
    this.size = size;
  }

  async sync(): Promise<void> {
    const covers = this.writes;
    if (this.fd >= 0 || covers > this.syncedWrites) {
      await this.owner.syncs.run(async () => {
        const fd = this.descriptor();
        this.hold();
        try {
          await fdatasync(fd);
        } finally {
          this.unhold();
        }
      });
      this.syncedWrites = Math.max(this.syncedWrites, covers);
    }
    if (!this.dirSynced) {
      await this.owner.syncDirectory(path.dirname(this.filePath));
      this.dirSynced = true;
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.whenIdle = resolve));
    this.cache.forget(this);
    this.owner.closed(this);
    const fd = this.fd;
    this.fd = -1;
    if (fd < 0) return;
    await new Promise<void>((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
  }

  /** DescriptorCache: closes the descriptor to make room; the next use reopens. */
  release(): void {
    const fd = this.fd;
    this.fd = -1;
    try {
      fs.closeSync(fd);
    } catch {
      // a close that fails still frees the descriptor (Linux)
    }
  }

  /** The store deleted or replaced this file's name. */
  detach(): void {
    if (this.fd >= 0) {
      this.pinned = true;
      this.cache.forget(this);
    } else this.gone = true;
  }

  private descriptor(): number {
    if (this.fd >= 0) {
      if (this.inFlight === 0 && !this.pinned) this.cache.touch(this);
      return this.fd;
    }
    if (this.closing) throw new BrokerError('STORAGE_IO', `${this.name} is closed`);
    if (this.gone) throw new BrokerError('STORAGE_IO', `${this.name} was deleted while closed`);
    try {
      this.fd = fs.openSync(this.filePath, 'r+');
    } catch (err) {
      throw io(`reopen ${this.filePath}`, err);
    }
    this.cache.opened(this);
    return this.fd;
  }

  private hold(): void {
    if (this.inFlight++ === 0) this.cache.hold(this);
  }

  private unhold(): void {
    if (--this.inFlight > 0) return;
    this.cache.unhold(this, !this.closing && !this.pinned);
    this.whenIdle?.();
    this.whenIdle = undefined;
  }
}

/** Segment files in `<root>/<log>/`, small metadata files replaced atomically with rename. */
export class FsSegmentStore implements SegmentStore {
  readonly durable = true;
  readonly description: string;
  /** Segment files' descriptors: bounded when `openFiles` is. */
  readonly descriptors: DescriptorCache;
  readonly syncs: TransientOpens;
  private readonly transient = new TransientOpens(TRANSIENT_OPENS);
  private readonly knownDirs = new Set<string>();
  /** Segment files not closed, by path: renames and deletions reach them. */
  private readonly live = new Map<string, FsSegmentFile>();

  constructor(
    readonly root: string,
    options: FsSegmentStoreOptions = {},
  ) {
    const openFiles = options.openFiles ?? Infinity;
    this.descriptors = new DescriptorCache(openFiles);
    this.syncs = new TransientOpens(Math.max(1, Math.floor(openFiles / 2)));
    this.description = Number.isFinite(openFiles) ? `fs ${root} (segment files open max ${openFiles})` : `fs ${root}`;
  }

  async listLogs(): Promise<string[]> {
    const entries = await this.transient.run(() => fs.promises.readdir(this.root, { withFileTypes: true })).catch(ignoreMissing([]));
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  }

  async listFiles(log: string): Promise<string[]> {
    return this.transient.run(() => fs.promises.readdir(this.dirOf(log))).catch(ignoreMissing([]));
  }

  async openFile(log: string, name: string): Promise<SegmentFile> {
    const file = path.join(this.dirOf(log), name);
    const { fd, size, mtimeMs } = await this.transient.run(async () => {
      const fd = await openFd(file, 'r+').catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ENOENT' ? new BrokerError('NOT_FOUND', `${file} does not exist`) : io(`open ${file}`, err);
      });
      try {
        return { fd, ...(await fstat(fd)) };
      } catch (err) {
        fs.closeSync(fd);
        throw io(`stat ${file}`, err);
      }
    });
    return this.track(new FsSegmentFile(name, fd, size, file, this, false, Math.floor(mtimeMs)));
  }

  createFile(log: string, name: string): SegmentFile {
    const dir = this.ensureDir(log);
    const file = path.join(dir, name);
    let fd: number;
    try {
      fd = fs.openSync(file, 'w+');
    } catch (err) {
      throw io(`create ${file}`, err);
    }
    this.live.get(file)?.detach();
    return this.track(new FsSegmentFile(name, fd, 0, file, this, true));
  }

  async readFile(log: string, name: string): Promise<Buffer | undefined> {
    return this.transient.run(() => fs.promises.readFile(path.join(this.dirOf(log), name))).catch(ignoreMissing(undefined));
  }

  async replaceFile(log: string, name: string, data: Buffer, options?: { syncDirectory?: boolean }): Promise<void> {
    const dir = this.ensureDir(log);
    const target = path.join(dir, name);
    const temporary = `${target}.${process.pid}.${++temporaryCounter}.tmp`;
    try {
      await this.transient.run(async () => {
        const handle = await fs.promises.open(temporary, 'w');
        try {
          await handle.writeFile(data);
          await handle.datasync();
        } finally {
          await handle.close();
        }
      });
      await fs.promises.rename(temporary, target);
    } catch (err) {
      await fs.promises.rm(temporary, { force: true });
      throw io(`replace ${target}`, err);
    }
    this.live.get(target)?.detach();
    if (options?.syncDirectory !== false) await this.syncDirectory(dir);
  }

  async deleteFile(log: string, name: string): Promise<void> {
    const file = path.join(this.dirOf(log), name);
    await fs.promises.unlink(file).catch(ignoreMissing(undefined));
    this.live.get(file)?.detach();
  }

  async renameFile(log: string, from: string, to: string, options?: { syncDirectory?: boolean }): Promise<void> {
    const dir = this.dirOf(log);
    const source = path.join(dir, from);
    const target = path.join(dir, to);
    await fs.promises.rename(source, target).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new BrokerError('NOT_FOUND', `${source} does not exist`) : io(`rename ${source}`, err);
    });
    this.live.get(target)?.detach();
    const moved = this.live.get(source);
    if (moved) {
      this.live.delete(source);
      moved.filePath = target;
      this.live.set(target, moved);
    }
    if (options?.syncDirectory !== false) await this.syncDirectory(dir);
  }

  async deleteLog(log: string): Promise<void> {
    const dir = this.dirOf(log);
    await fs.promises.rm(dir, { recursive: true, force: true });
    this.knownDirs.delete(log);
    for (const [file, segment] of this.live) if (path.dirname(file) === dir) segment.detach();
  }

  /** Free bytes for unprivileged writers on the disk holding the root (its nearest existing ancestor before it is made). */
  async freeBytes(): Promise<number> {
    for (let dir = this.root; ; dir = path.dirname(dir)) {
      try {
        const { bavail, bsize } = await fs.promises.statfs(dir);
        return bavail * bsize;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dir === path.dirname(dir)) throw io(`statfs ${dir}`, err);
      }
    }
  }

  async close(): Promise<void> {}

  /** Syncs a directory (a new name in it is durable after). */
  syncDirectory(dir: string): Promise<void> {
    return this.transient.run(() => syncDirectory(dir));
  }

  /** A segment file closed: renames and deletions no longer concern it. */
  closed(file: FsSegmentFile): void {
    if (this.live.get(file.filePath) === file) this.live.delete(file.filePath);
  }

  private track(file: FsSegmentFile): FsSegmentFile {
    this.live.set(file.filePath, file);
    return file;
  }

  private dirOf(log: string): string {
    return path.join(this.root, log);
  }

  private ensureDir(log: string): string {
    const dir = this.dirOf(log);
    if (!this.knownDirs.has(log)) {
      fs.mkdirSync(dir, { recursive: true });
      this.knownDirs.add(log);
    }
    return dir;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await fsync(handle.fd);
  } finally {
    await handle.close();
  }
}

function ignoreMissing<T>(fallback: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code === 'ENOENT') return fallback;
    throw io(err.path ?? 'file', err);
  };
}

/** ENOSPC and EDQUOT are STORAGE_FULL (the broker turns read-only until space returns); the rest STORAGE_IO. */
function io(what: string, cause: unknown): BrokerError {
  if (BrokerError.is(cause)) return cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new BrokerError('STORAGE_FULL', `the disk is full: ${what}`, { cause });
  return new BrokerError('STORAGE_IO', `storage I/O failed: ${what}`, { cause });
}
