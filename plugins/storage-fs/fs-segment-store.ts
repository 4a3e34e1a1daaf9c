import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { BrokerError, type SegmentFile, type SegmentStore } from '../../core/index.ts';

const fdatasync = promisify(fs.fdatasync);
const fsync = promisify(fs.fsync);
const openFd = promisify(fs.open);
let temporaryCounter = 0;
const fstat = promisify(fs.fstat);

/**
 * A segment file on disk. Appends and reads are positional system calls into the page cache, on the
 * event loop (they do not wait for the disk); sync is an fdatasync on the thread pool.
 */
export class FsSegmentFile implements SegmentFile {
  private dirSynced: boolean;

  constructor(
    readonly name: string,
    private readonly fd: number,
    public size: number,
    private readonly dir: string,
    isNew: boolean,
    readonly lastModified?: number,
  ) {
    this.dirSynced = !isNew;
  }

  append(data: Buffer | readonly Buffer[]): void {
    let position = this.size;
    try {
      for (const chunk of Buffer.isBuffer(data) ? [data] : data) {
        for (let at = 0; at < chunk.length; ) {
          const n = fs.writeSync(this.fd, chunk, at, chunk.length - at, position);
          at += n;
          position += n;
        }
      }
    } catch (err) {
      // Nothing of a failed append stays: the next one starts where this one did (ftruncate needs no space).
      if (position > this.size) {
        try {
          fs.ftruncateSync(this.fd, this.size);
        } catch {
          // the append's own error says more
        }
      }
      throw io(`append to ${this.name}`, err);
    }
    this.size = position;
  }

  read(position: number, length: number): Buffer {
    const end = Math.min(position + length, this.size);
    if (position >= end) return Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(end - position);
    for (let got = 0; got < buf.length; ) {
      const n = fs.readSync(this.fd, buf, got, buf.length - got, position + got);
      if (n === 0) throw new BrokerError('STORAGE_IO', `${this.name} ended at ${position + got}, expected ${end}`);
      got += n;
    }
    return buf;
  }

  truncate(size: number): void {
    fs.ftruncateSync(this.fd, size);
    this.size = size;
  }

  async sync(): Promise<void> {
    await fdatasync(this.fd);
    if (!this.dirSynced) {
      await syncDirectory(this.dir);
      this.dirSynced = true;
    }
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => fs.close(this.fd, (err) => (err ? reject(err) : resolve())));
  }
}

/** Segment files in `<root>/<log>/`, small metadata files replaced atomically with rename. */
export class FsSegmentStore implements SegmentStore {
  readonly durable = true;
  readonly description: string;
  private readonly knownDirs = new Set<string>();

  constructor(readonly root: string) {
    this.description = `fs ${root}`;
  }

  async listLogs(): Promise<string[]> {
    const entries = await fs.promises.readdir(this.root, { withFileTypes: true }).catch(ignoreMissing([]));
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  }

  async listFiles(log: string): Promise<string[]> {
    return fs.promises.readdir(this.dirOf(log)).catch(ignoreMissing([]));
  }

  async openFile(log: string, name: string): Promise<SegmentFile> {
    const file = path.join(this.dirOf(log), name);
    const fd = await openFd(file, 'r+').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new BrokerError('NOT_FOUND', `${file} does not exist`) : io(`open ${file}`, err);
    });
    const { size, mtimeMs } = await fstat(fd);
    return new FsSegmentFile(name, fd, size, this.dirOf(log), false, Math.floor(mtimeMs));
  }

  createFile(log: string, name: string): SegmentFile {
    const dir = this.ensureDir(log);
    try {
      return new FsSegmentFile(name, fs.openSync(path.join(dir, name), 'w+'), 0, dir, true);
    } catch (err) {
      throw io(`create ${path.join(dir, name)}`, err);
    }
  }

  async readFile(log: string, name: string): Promise<Buffer | undefined> {
    return fs.promises.readFile(path.join(this.dirOf(log), name)).catch(ignoreMissing(undefined));
  }

  async replaceFile(log: string, name: string, data: Buffer): Promise<void> {
    const dir = this.ensureDir(log);
    const target = path.join(dir, name);
    const temporary = `${target}.${process.pid}.${++temporaryCounter}.tmp`;
    try {
      const handle = await fs.promises.open(temporary, 'w');
      try {
        await handle.writeFile(data);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await fs.promises.rename(temporary, target);
    } catch (err) {
      await fs.promises.rm(temporary, { force: true });
      throw io(`replace ${target}`, err);
    }
    await syncDirectory(dir);
  }

  async deleteFile(log: string, name: string): Promise<void> {
    await fs.promises.unlink(path.join(this.dirOf(log), name)).catch(ignoreMissing(undefined));
  }

  async renameFile(log: string, from: string, to: string): Promise<void> {
    const dir = this.dirOf(log);
    await fs.promises.rename(path.join(dir, from), path.join(dir, to)).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new BrokerError('NOT_FOUND', `${path.join(dir, from)} does not exist`) : io(`rename ${path.join(dir, from)}`, err);
    });
    await syncDirectory(dir);
  }

  async deleteLog(log: string): Promise<void> {
    await fs.promises.rm(this.dirOf(log), { recursive: true, force: true });
    this.knownDirs.delete(log);
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
