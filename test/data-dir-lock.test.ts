import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerError, createBroker } from '../core/index.ts';
import { fsStorage } from '../plugins/storage-fs/index.ts';
import { ROOT, exitCode, onLines, waitForLine } from './helpers/spawn.ts';
import { tempDir } from './helpers/temp-dir.ts';

const WHARF = path.join(ROOT, 'bin/wharf.js');
const startArgs = (dataDir: string) => ['start', '--data-dir', dataDir, '--host', '127.0.0.1', '--kafka-port', 'auto', '--amqp-port', 'auto', '--rocket-port', 'auto', '--stream-port', 'auto', '--http-port', 'auto', '--log-level', 'warn'];

/** Each test boots two brokers through tsx, which takes seconds on a busy 2-core machine. */
const BOOTS_TIMEOUT_MS = 90_000;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function started(child: ChildProcess): ChildProcess {
  cleanups.push(() => child.kill('SIGKILL'));
  return child;
}

function wharf(dataDir: string): ChildProcess {
  return started(spawn(process.execPath, [WHARF, ...startArgs(dataDir)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
}

function stderrOf(child: ChildProcess): () => string {
  let text = '';
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

/** The pid `.lock` names: the target of the symbolic link the broker writes (or a plain file's content). */
const lockOwner = (dataDir: string): number => {
  const file = path.join(dataDir, '.lock');
  return Number(fs.lstatSync(file).isSymbolicLink() ? fs.readlinkSync(file) : fs.readFileSync(file, 'utf8'));
};

/** The process state letter from /proc/<pid>/stat ('Z' for a zombie), or undefined once the pid is gone. */
function procState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

async function stopCleanly(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  expect(await exitCode(child)).toBe(0);
}

describe.skipIf(process.platform !== 'linux')('one broker per data directory', () => {
  it('a broker killed with SIGKILL and not yet reaped (a zombie) does not hold its data directory', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    // sh starts the broker, prints its pid, and execs sleep: a parent that never reaps it.
    const parent = started(spawn('/bin/sh', ['-c', '"$0" "$@" & echo "broker $!"; exec sleep 120', process.execPath, WHARF, ...startArgs(dir.path)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    const lines: string[] = [];
    onLines(parent, (line) => lines.push(line));
    await until(() => lines.some((l) => l.startsWith('Wharf ready')), 'the first broker', 60_000);
    const pid = Number(/^broker (\d+)$/.exec(lines.find((l) => l.startsWith('broker '))!)![1]);
    expect(lockOwner(dir.path)).toBe(pid);

    process.kill(pid, 'SIGKILL');
    await until(() => procState(pid) === 'Z', `process ${pid} to become a zombie`);
    expect(lockOwner(dir.path)).toBe(pid);

    const next = wharf(dir.path);
    expect(await waitForLine(next, /^Wharf ready/, 60_000)).toContain(`storage fs ${dir.path}`);
    expect(procState(pid)).toBe('Z');
    expect(lockOwner(dir.path)).toBe(next.pid);
    await stopCleanly(next);
    expect(fs.existsSync(path.join(dir.path, '.lock'))).toBe(false);
  }, BOOTS_TIMEOUT_MS);

  it('a second broker in the same process is refused until the first stops', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const broker = () => createBroker({ plugins: [fsStorage()], config: { dataDir: dir.path, logLevel: 'silent' } });
    const first = await (await broker()).start();
    await expect((await broker()).start()).rejects.toSatisfy((e) => BrokerError.is(e, 'BROKER_STATE') && /in use by process/.test((e as Error).message));
    await first.stop();
    await (await (await broker()).start()).stop();
  });

  it('a stale lock file naming a pid now used by an unrelated live process does not hold it; a live broker does', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const unrelated = started(spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120_000)'], { stdio: 'ignore' }));
    await until(() => procState(unrelated.pid!) !== undefined, 'the unrelated process');
    fs.writeFileSync(path.join(dir.path, '.lock'), String(unrelated.pid));

    const owner = wharf(dir.path);
    await waitForLine(owner, /^Wharf ready/, 60_000);
    expect(lockOwner(dir.path)).toBe(owner.pid);

    const second = wharf(dir.path);
    const stderr = stderrOf(second);
    expect(await exitCode(second)).toBe(1);
    expect(stderr()).toContain(`data directory ${dir.path} is in use by process ${owner.pid}`);
    expect(lockOwner(dir.path)).toBe(owner.pid);
    await stopCleanly(owner);
  }, BOOTS_TIMEOUT_MS);
});
