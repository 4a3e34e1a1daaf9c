/** Shared helpers for benchmarks: medians, formatting, a table printer, child-process plumbing. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import readline from 'node:readline';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function spread(values: readonly number[]): string {
  return `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`;
}

export function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export const MiB = 1024 * 1024;

/** Prints rows as an aligned table. */
export function printTable(title: string, header: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** Seconds of wall time `fn` takes. */
export async function timed(fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Resolves with the first stdout line matching `pattern`; the child's output keeps being read after that. */
export function lineMatching(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let found = false;
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!found && pattern.test(line)) {
        found = true;
        resolve(line);
      }
    });
    child.once('exit', (code) => !found && reject(new Error(`process exited with ${code} before printing ${pattern}`)));
  });
}

/** The space-separated fields of the first stdout line starting with `prefix`. */
export async function lineFields(child: ChildProcess, prefix: string): Promise<string[]> {
  return (await lineMatching(child, new RegExp(`^${prefix}`))).split(' ');
}

/** A loopback port free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Stops a child with SIGTERM and waits for it to exit. */
export function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}

const TICK = 100;

/** CPU seconds a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

export function rssMiB(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

/** Runs a shell pipeline; returns wall seconds and the CPU seconds of its processes (bash `times`). */
export function shell(script: string): Promise<{ seconds: number; cpu: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('bash', ['-c', `${script}\ntimes`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    // 'close', not 'exit': the output is all read only once the pipes close.
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`${script}: exit ${code}: ${err}`));
      const seconds = (performance.now() - start) / 1000;
      const lines = out.trim().split('\n');
      const children = lines.pop()!.split(/\s+/).map((t) => {
        const m = /(\d+)m([\d.]+)s/.exec(t)!;
        return Number(m[1]) * 60 + Number(m[2]);
      });
      lines.pop();
      resolve({ seconds, cpu: children[0]! + children[1]!, stdout: lines.join('\n') });
    });
  });
}

/** The p-th percentile (0-100) by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
