import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, exitCode, waitForLine } from './helpers/spawn.ts';
import { tempDir } from './helpers/temp-dir.ts';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

function wharf(args: string[]) {
  return spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('wharf CLI (boots under tsx)', () => {
  it('starts on storage-fs, prints one readiness line, and stops cleanly on SIGTERM', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const child = wharf(['start', '--data-dir', dir.path, '--log-level', 'warn']);
    const line = await waitForLine(child, /^Wharf ready/);
    expect(line).toContain(`storage fs ${dir.path}`);
    expect(fs.existsSync(path.join(dir.path, '__wharf_topics-0'))).toBe(true);
    child.kill('SIGTERM');
    expect(await exitCode(child)).toBe(0);
    expect(fs.readdirSync(dir.path)).not.toContain('.lock');
  });

  it('takes its configuration from a file, the environment and flags, and exits 2 on an unknown key', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = path.join(dir.path, 'wharf.json');
    fs.writeFileSync(file, JSON.stringify({ storage: 'fs', dataDir: path.join(dir.path, 'from-file') }));
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), 'start', '--config', file, '--storage', 'memory'], {
      cwd: ROOT,
      env: { ...process.env, WHARF_LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(await waitForLine(child, /^Wharf ready/)).toContain('storage memory');
    child.kill('SIGINT');
    expect(await exitCode(child)).toBe(0);

    const bad = wharf(['start', '--no-such-flag', '1']);
    let stderr = '';
    bad.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    expect(await exitCode(bad)).toBe(2);
    expect(stderr).toMatch(/unknown configuration key --no-such-flag/);
  });
});
