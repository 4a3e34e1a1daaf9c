import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../helpers/spawn.ts';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/wharf.js <args>` (the published bin) to its exit. */
export function wharfCli(args: readonly string[]): Promise<CliRun> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The same against a broker's admin port, expecting success; returns stdout (parsed with --json). */
export async function wharfOk(httpPort: number, args: readonly string[]): Promise<string> {
  const run = await wharfCli([...args, '--server', `http://127.0.0.1:${httpPort}`]);
  if (run.code !== 0) throw new Error(`wharf ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run.stdout;
}

export async function wharfJson<T>(httpPort: number, args: readonly string[]): Promise<T> {
  return JSON.parse(await wharfOk(httpPort, [...args, '--json'])) as T;
}
