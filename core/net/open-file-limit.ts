import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** RLIMIT_NOFILE of this process: how many file descriptors (sockets included) it may hold. */
export interface OpenFileLimit {
  soft: number;
  /** Infinity for `unlimited`. */
  hard: number;
}

/**
 * The open-file limit in effect. Node raises the soft limit to the hard one when it starts (on POSIX),
 * so this is normally the hard limit. Read from /proc/self/limits, else from the shell's `ulimit`;
 * undefined where neither is available (then nothing is derived from it).
 */
export function openFileLimit(): OpenFileLimit | undefined {
  return fromProc() ?? fromUlimit();
}

function fromProc(): OpenFileLimit | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  return match ? { soft: parseLimit(match[1]!), hard: parseLimit(match[2]!) } : undefined;
}

function fromUlimit(): OpenFileLimit | undefined {
  const run = (flag: string) => spawnSync('/bin/sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8', timeout: 2000 });
  const soft = run('-Sn');
  const hard = run('-Hn');
  if (soft.status !== 0 || hard.status !== 0) return undefined;
  const limit = { soft: parseLimit(soft.stdout.trim()), hard: parseLimit(hard.stdout.trim()) };
  return Number.isNaN(limit.soft) || Number.isNaN(limit.hard) ? undefined : limit;
}

function parseLimit(value: string): number {
  return value === 'unlimited' ? Infinity : Number(value);
}
