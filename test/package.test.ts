import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { expect, it } from 'vitest';
import { exitCode, ROOT, waitForLine } from './helpers/spawn.ts';
import { tempDir } from './helpers/temp-dir.ts';

/** What a checkout holds that is not source: never copied into the staging checkout. */
const NOT_SOURCE = new Set(['node_modules', 'dist', '.git', 'data', '.bench-tmp', 'coverage']);

/**
 * The environment of the npm and broker processes: this one's, without what npm put there for the
 * checkout's own scripts (npm_config_local_prefix would point a nested npm back at the checkout). The
 * vitest config's WHARF_FROM_SOURCES=1 stays: an installed package has no sources and ignores it.
 */
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_(package_|lifecycle_|command$|config_local_prefix$)/.test(name)));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], cwd: string): Promise<Run> {
  const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return exitCode(child).then((code) => ({ code, stdout, stderr }));
}

/** The process ids below `pid`, children first. */
function descendants(pid: number): number[] {
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/** The broker npx started: the node process below it (npx runs it through `sh -c`). */
function brokerUnder(npx: ChildProcess): number {
  const broker = descendants(npx.pid!).find((pid) => path.basename(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!) === 'node');
  if (broker === undefined) throw new Error('npx runs no node process');
  return broker;
}

it('npm pack yields a package that, installed from the registry alone, runs `npx wharf start` from JavaScript and serves clients', { timeout: 240_000 }, async () => {
  const work = tempDir('wharf-package-');
  try {
    // A copy of the checkout, built: npm pack picks the package's files from it by package.json's `files`.
    const checkout = path.join(work.path, 'checkout');
    fs.cpSync(ROOT, checkout, { recursive: true, filter: (from) => path.dirname(from) !== ROOT || !(NOT_SOURCE.has(path.basename(from)) || path.basename(from).startsWith('dist.')) });
    const build = await run(process.execPath, [path.join(ROOT, 'bin/build.js'), '--out-dir', path.join(checkout, 'dist')], ROOT);
    expect(build.code, build.stderr).toBe(0);
    // --ignore-scripts: prepack would type-check (npm test has) and build (done above) again.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work.path], checkout);
    expect(pack.code, pack.stderr).toBe(0);
    const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed!.files.map((f) => f.path);
    expect(files.filter((f) => !f.startsWith('dist/')).sort()).toEqual(['README.md', 'bin/build-state.js', 'bin/wharf.js', 'package.json']);
    expect(files).toEqual(expect.arrayContaining(['dist/bin/cli.js', 'dist/core/index.js', 'dist/core/index.d.ts', 'dist/plugins/kafka/index.js']));
    expect(files.filter((f) => (f.endsWith('.ts') && !f.endsWith('.d.ts')) || /\.test\.|generator|arbitraries|\.build-stamp/.test(f))).toEqual([]);
    const tsSpecifiers = files.filter((f) => f.endsWith('.js') && /from ["']\.{1,2}\/[^"']*\.ts["']/.test(fs.readFileSync(path.join(checkout, f), 'utf8')));
    expect(tsSpecifiers).toEqual([]);

    // A fresh project installs the tarball; its dependencies come from the registry (npm's cache first).
    const app = path.join(work.path, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), '{ "name": "uses-wharf", "private": true }\n');
    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(work.path, packed!.filename)], app);
    expect(install.code, install.stderr).toBe(0);
    for (const loader of ['tsx', 'typescript', 'esbuild']) expect(fs.existsSync(path.join(app, 'node_modules', loader)), loader).toBe(false);

    const help = await run('npx', ['wharf', '--help'], app);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^usage: wharf start/);
    expect(help.stdout).toContain('--kafka-port');

    const imports = await run(process.execPath, ['--input-type=module', '-e', "const [w, k] = await Promise.all(['wharf', 'wharf/plugins/kafka'].map((m) => import(m))); console.log(typeof w.createBroker, typeof k.kafka)"], app);
    expect(imports.code, imports.stderr).toBe(0);
    expect(imports.stdout.trim()).toBe('function function');

    const npx = spawn(
      'npx',
      ['wharf', 'start', '--data-dir', path.join(work.path, 'data'), '--host', '127.0.0.1', '--kafka-port', 'auto', '--amqp-port', 'auto', '--rocket-port', 'auto', '--stream-port', 'auto', '--http-port', 'auto', '--groups-initial-rebalance-delay-ms', '0', '--log-level', 'warn'],
      { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const ready = await waitForLine(npx, /^Wharf ready/, 60_000);
    expect(ready).toMatch(/kafka 127\.0\.0\.1:\d+( \([^)]*\))?, amqp 127\.0\.0\.1:\d+( \([^)]*\))?, rabbitmq-stream 127\.0\.0\.1:\d+, rocketmq 127\.0\.0\.1:\d+/);
    const broker = brokerUnder(npx);
    expect(fs.readFileSync(`/proc/${broker}/cmdline`, 'utf8').split('\0')[1]).toBe(path.join(app, 'node_modules', '.bin', 'wharf'));

    const kafka = new Kafka({ clientId: 'installed', brokers: [`127.0.0.1:${/kafka 127\.0\.0\.1:(\d+)/.exec(ready)![1]}`], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const [sent] = await producer.send({ topic: 'installed', messages: [{ key: 'k', value: 'from the tarball' }] });
    expect(sent!.errorCode).toBe(0);
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'installed' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'installed', fromBeginning: true });
    const received = await new Promise<string>((resolve) => void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) }));
    expect(received).toBe('from the tarball');
    await consumer.disconnect();

    // The broker stops on SIGTERM and npx passes on its exit code.
    process.kill(broker, 'SIGTERM');
    expect(await exitCode(npx)).toBe(0);
  } finally {
    work.remove();
  }
});
