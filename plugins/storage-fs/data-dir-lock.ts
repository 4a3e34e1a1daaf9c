import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BrokerError } from '../../core/index.ts';

const LOCK_FILE = '.lock';

/**
 * One broker per data directory. On Linux the lock is an abstract Unix socket named after the
 * directory's device and inode: the kernel frees it as the owner exits, so a killed broker that is not
 * yet reaped holds nothing and a reused pid can hold nothing. The `.lock` file names the owner's pid
 * for the refusal message; on other systems it is the lock itself, taken over when its pid is gone. The
 * `.lock` is a symbolic link whose target is the pid: creating one needs no data block, so a broker can
 * start (read-only) on a full disk.
 */
export class DataDirLock {
  private socket: net.Server | undefined;
  private held = false;

  constructor(private readonly dir: string) {}

  async acquire(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    if (process.platform === 'linux') {
      const socket = await this.bindSocket();
      try {
        fs.rmSync(this.file, { force: true });
        fs.symlinkSync(String(process.pid), this.file);
      } catch (err) {
        socket.close();
        throw err;
      }
      this.socket = socket;
    } else {
      this.createPidFile();
    }
    this.held = true;
  }

  async release(): Promise<void> {
    if (!this.held) return;
    fs.rmSync(this.file, { force: true });
    this.held = false;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise((resolve) => socket.close(resolve));
  }

  private get file(): string {
    return path.join(this.dir, LOCK_FILE);
  }

  private bindSocket(): Promise<net.Server> {
    const { dev, ino } = fs.statSync(this.dir, { bigint: true });
    const server = net.createServer((connection) => connection.destroy());
    return new Promise((resolve, reject) => {
      // Past listening, an accept error concerns nobody: the lock is the bound name, not its connections.
      server.on('error', (err: NodeJS.ErrnoException) => {
        if (!server.listening) reject(err.code === 'EADDRINUSE' ? this.inUse(readOwner(this.file)) : err);
      });
      server.listen(`\0wharf-data-dir-${dev}-${ino}`, () => resolve(server.unref()));
    });
  }

  private createPidFile(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.symlinkSync(String(process.pid), this.file);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = readOwner(this.file);
        if (owner !== undefined && owner !== process.pid && isAlive(owner)) throw this.inUse(owner);
        fs.rmSync(this.file, { force: true });
      }
    }
    throw new BrokerError('BROKER_STATE', `could not lock data directory ${this.dir}`);
  }

  private inUse(owner: number | undefined): BrokerError {
    return new BrokerError('BROKER_STATE', `data directory ${this.dir} is in use by ${owner === undefined ? 'another process' : `process ${owner}`}`);
  }
}

function readOwner(file: string): number | undefined {
  try {
    const pid = Number(fs.lstatSync(file).isSymbolicLink() ? fs.readlinkSync(file) : fs.readFileSync(file, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
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
