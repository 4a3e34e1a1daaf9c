import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { expect, it } from 'vitest';
import { exitCode, ROOT, waitForLine } from './helpers/spawn.ts';
import { tempDir } from './helpers/temp-dir.ts';

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

it('compiles to a package whose bin runs the broker, every protocol, from JavaScript alone', { timeout: 180_000 }, async () => {
  const pkg = tempDir('wharf-package-');
  try {
    const build = spawn(process.execPath, [path.join(ROOT, 'bin/build.js'), '--out-dir', path.join(pkg.path, 'dist')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let buildLog = '';
    build.stderr.on('data', (chunk: Buffer) => (buildLog += chunk.toString()));
    expect(await exitCode(build), buildLog).toBe(0);

    const compiled = filesUnder(path.join(pkg.path, 'dist'));
    expect(compiled).toContain(path.join('core', 'index.js'));
    expect(compiled).toContain(path.join('core', 'index.d.ts'));
    expect(compiled.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(compiled.filter((f) => f.includes('.test.') || f.includes('generator') || f.endsWith('arbitraries.js'))).toEqual([]);
    const tsSpecifiers = compiled.filter((f) => f.endsWith('.js') && /from ["']\.{1,2}\/[^"']*\.ts["']/.test(fs.readFileSync(path.join(pkg.path, 'dist', f), 'utf8')));
    expect(tsSpecifiers).toEqual([]);

    // The published layout: the launcher and the compiled code, no sources; dependencies resolve from the checkout's.
    fs.mkdirSync(path.join(pkg.path, 'bin'));
    for (const file of ['bin/wharf.js', 'bin/build-state.js', 'package.json']) fs.copyFileSync(path.join(ROOT, file), path.join(pkg.path, file));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg.path, 'node_modules'));
    const { WHARF_FROM_SOURCES: _fromSources, ...env } = process.env;
    const broker = spawn(
      process.execPath,
      [path.join(pkg.path, 'bin/wharf.js'), 'start', '--data-dir', path.join(pkg.path, 'data'), '--kafka-port', 'auto', '--amqp-port', 'auto', '--rocket-port', 'auto', '--host', '127.0.0.1', '--log-level', 'warn'],
      { cwd: pkg.path, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const ready = await waitForLine(broker, /^Wharf ready/, 30_000);
    expect(ready).toMatch(/kafka 127\.0\.0\.1:\d+, amqp 127\.0\.0\.1:\d+, rocketmq 127\.0\.0\.1:\d+/);
    const kafka = new Kafka({ clientId: 'compiled', brokers: [`127.0.0.1:${/kafka 127\.0\.0\.1:(\d+)/.exec(ready)![1]}`], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const [sent] = await producer.send({ topic: 'compiled', messages: [{ value: 'from dist' }] });
    expect(sent!.errorCode).toBe(0);
    await producer.disconnect();
    broker.kill('SIGTERM');
    expect(await exitCode(broker)).toBe(0);
  } finally {
    pkg.remove();
  }
});
