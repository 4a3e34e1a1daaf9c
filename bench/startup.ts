/**
 * Start-up: time from spawning `bin/wharf.js start` (storage-fs, every protocol listening) to its readiness
 * line, and RSS then, for the compiled code in dist/ beside the TypeScript sources through tsx (with tsx's
 * transform cache warm, and cold as after a fresh clone or a change), and `npm start` with a current dist/.
 * Runs alternate so load on a shared machine spreads over all. BENCH_STARTUP_RUNS (7).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fmt, lineMatching, median, printTable, spread } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TMP = path.join(ROOT, '.bench-tmp/startup');
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 7);
const FLAGS = ['--kafka-port', 'auto', '--amqp-port', 'auto', '--rocket-port', 'auto', '--stream-port', 'auto', '--host', '127.0.0.1', '--log-level', 'warn'];

interface Variant {
  name: string;
  command(dataDir: string): { file: string; args: string[]; env: NodeJS.ProcessEnv };
}

const wharf = (fromSources: boolean, tsxCache?: () => string): Variant['command'] => (dataDir) => ({
  file: process.execPath,
  args: [path.join(ROOT, 'bin/wharf.js'), 'start', '--data-dir', dataDir, ...FLAGS],
  env: { ...process.env, WHARF_FROM_SOURCES: fromSources ? '1' : '0', ...(tsxCache ? { TMPDIR: tsxCache() } : {}) },
});

let coldCaches = 0;
const variants: Variant[] = [
  { name: 'compiled (dist/)', command: wharf(false) },
  { name: 'sources via tsx, warm cache', command: wharf(true) },
  { name: 'sources via tsx, cold cache', command: wharf(true, () => fs.mkdtempSync(path.join(TMP, `tsx-cache-${coldCaches++}-`))) },
  {
    name: 'npm start (dist/ current)',
    command: (dataDir) => ({ file: 'npm', args: ['start', '--silent', '--', '--data-dir', dataDir, ...FLAGS], env: { ...process.env, WHARF_FROM_SOURCES: '0' } }),
  },
];

/** Milliseconds to the readiness line and the RSS (MiB) of the broker process then. */
async function startOnce(variant: Variant, dataDir: string): Promise<{ ms: number; rssMiB: number }> {
  const { file, args, env } = variant.command(dataDir);
  const started = process.hrtime.bigint();
  const child = spawn(file, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  await lineMatching(child, /^Wharf ready/);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const rssMiB = brokerRss(child.pid!);
  process.kill(-child.pid!, 'SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return { ms, rssMiB };
}

/** VmRSS of the node process running the broker: `pid` itself, or for npm, its descendant that opened the data directory's lock. */
function brokerRss(pid: number): number {
  const pids = [pid, ...descendants(pid)];
  const rss = pids.map((p) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) / 1024);
  return Math.max(...rss);
}

function descendants(pid: number): number[] {
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.flatMap((c) => [c, ...descendants(c)]);
}

fs.rmSync(TMP, { recursive: true, force: true });
fs.mkdirSync(TMP, { recursive: true });
const build = spawnSync(process.execPath, [path.join(ROOT, 'bin/build.js'), '--if-stale'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const results = new Map(variants.map((v) => [v.name, [] as Array<{ ms: number; rssMiB: number }>]));
for (let run = 0; run < RUNS; run++) {
  for (const variant of variants) results.get(variant.name)!.push(await startOnce(variant, path.join(TMP, `data-${run}-${variants.indexOf(variant)}`)));
}
fs.rmSync(TMP, { recursive: true, force: true });

const reference = median(results.get('sources via tsx, warm cache')!.map((r) => r.ms));
printTable(
  `Start-up to the readiness line (storage-fs, Kafka + AMQP + RocketMQ listening), ${RUNS} runs each, alternating`,
  ['variant', 'median', 'range', 'vs sources (warm)', 'RSS at ready (median)'],
  variants.map((v) => {
    const runs = results.get(v.name)!;
    const ms = median(runs.map((r) => r.ms));
    return [v.name, `${fmt(ms)} ms`, `${spread(runs.map((r) => r.ms))} ms`, `${(ms / reference).toFixed(2)}×`, `${fmt(median(runs.map((r) => r.rssMiB)))} MiB`];
  }),
);
