import fs from 'node:fs';
import path from 'node:path';
import { BrokerError } from '../../core/index.ts';

const LOCK_FILE = '.lock';

/**
 * One broker per data directory: a lock holding the owner's pid; a dead owner's lock is taken over.
 * The lock is a symbolic link whose target is the pid: creating one needs no data block, so a broker can
 * start (read-only) on a full disk.
 */
export class DataDirLock {
  private held = false;

  constructor(private readonly dir: string) {}

  acquire(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.symlinkSync(String(process.pid), file);
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number(fs.lstatSync(file).isSymbolicLink() ? fs.readlinkSync(file) : fs.readFileSync(file, 'utf8'));
        if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
          throw new BrokerError('BROKER_STATE', `data directory ${this.dir} is in use by process ${owner}`);
        }
        fs.rmSync(file, { force: true });
      }
    }
    throw new BrokerError('BROKER_STATE', `could not lock data directory ${this.dir}`);
  }

  release(): void {
    if (!this.held) return;
    fs.rmSync(path.join(this.dir, LOCK_FILE), { force: true });
    this.held = false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
