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

const AUTO_PORTS = ['--host', '127.0.0.1', '--kafka-port', 'auto', '--amqp-port', 'auto', '--rocket-port', 'auto', '--stream-port', 'auto', '--http-port', 'auto'];

function wharf(args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function stderrOf(child: ReturnType<typeof wharf>): () => string {
  let text = '';
  child.stderr.on('data', (c: Buffer) => (text += c.toString()));
  return () => text;
}

describe('wharf CLI (boots under tsx)', () => {
  it('starts on storage-fs, prints one readiness line, and stops cleanly on SIGTERM', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const child = wharf(['start', '--data-dir', dir.path, '--log-level', 'warn', ...AUTO_PORTS]);
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
    const child = wharf(['start', '--config', file, '--storage', 'memory', ...AUTO_PORTS], { WHARF_LOG_LEVEL: 'silent' });
    expect(await waitForLine(child, /^Wharf ready/)).toContain('storage memory');
    child.kill('SIGINT');
    expect(await exitCode(child)).toBe(0);

    const bad = wharf(['start', '--no-such-flag', '1']);
    const stderr = stderrOf(bad);
    expect(await exitCode(bad)).toBe(2);
    expect(stderr()).toMatch(/unknown configuration key --no-such-flag/);
  });

  it('starts with an unrelated WHARF_* variable exported, warning once; a misspelled config-file key still exits 2', async () => {
    const child = wharf(['start', '--storage', 'memory', '--log-level', 'warn', ...AUTO_PORTS], { WHARF_SOMETHING: 'unrelated' });
    const stderr = stderrOf(child);
    await waitForLine(child, /^Wharf ready/, 45_000);
    child.kill('SIGTERM');
    expect(await exitCode(child)).toBe(0);
    const warnings = stderr().split('\n').filter((line) => line.includes('WHARF_SOMETHING'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, ignored: ['WHARF_SOMETHING'] });

    const dir = tempDir();
    dirs.push(dir);
    const file = path.join(dir.path, 'wharf.json');
    fs.writeFileSync(file, JSON.stringify({ storage: 'memory', dataDri: '/tmp/x' }));
    const bad = wharf(['start', '--config', file], { WHARF_SOMETHING: 'unrelated' });
    const badStderr = stderrOf(bad);
    expect(await exitCode(bad)).toBe(2);
    expect(badStderr()).toMatch(/unknown configuration key dataDri/);
  }, 60_000);
});
