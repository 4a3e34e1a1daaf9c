import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs a TypeScript file of this repository in a child Node process through tsx. */
export function spawnTs(file: string, args: readonly string[] = [], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, file), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Calls `onLine` for each stdout line of a child. */
export function onLines(child: ChildProcess, onLine: (line: string) => void): void {
  readline.createInterface({ input: child.stdout! }).on('line', onLine);
}

/** Resolves with the first stdout line matching `pattern`, rejecting if the child exits first or time runs out. */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    onLines(child, (line) => {
      if (pattern.test(line)) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code} before printing ${pattern}; stderr: ${stderr}`));
    });
  });
}

export function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export interface BrokerProcess {
  child: ChildProcess;
  /** The readiness line. */
  ready: string;
  /** The port a protocol listens on (from the readiness line). */
  port(protocol: 'kafka' | 'amqp' | 'rocketmq'): number;
  /** Everything the broker logged so far (stderr). */
  log(): string;
  /** Resident set size in bytes, from /proc. */
  rss(): number;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * The CLI broker in a child process on loopback, every listener on an OS-chosen port (flags in `args`
 * override), optionally under `prlimit --nofile=<nofile>` (util-linux).
 */
export async function startBrokerProcess(args: readonly string[] = [], options: { nofile?: string; timeoutMs?: number } = {}): Promise<BrokerProcess> {
  const command = [path.join(ROOT, 'bin/wharf.js'), 'start', '--storage', 'memory', '--host', '127.0.0.1', '--log-level', 'warn', '--kafka-port', 'auto', '--amqp-port', 'auto', '--rocket-port', 'auto', '--stream-port', 'auto', '--http-port', '0', ...args];
  const child = options.nofile
    ? spawn('prlimit', [`--nofile=${options.nofile}`, '--', process.execPath, ...command], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, command, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const ready = await waitForLine(child, /^Wharf ready/, options.timeoutMs ?? 30_000);
  return {
    child,
    ready,
    port: (protocol) => Number(new RegExp(`${protocol} 127\\.0\\.0\\.1:(\\d+)`).exec(ready)![1]),
    log: () => log,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exitCode(child);
    },
  };
}
