/**
 * RabbitMQ streams over the stream protocol against RabbitMQ 3.10.8 (rabbitmq_stream) on the same machine,
 * same client (rabbitmq-stream-js-client) in a separate process: publish with confirms, then consume from
 * `first`, 100 B and 1 KiB bodies, with the broker's CPU per message (from /proc) beside each figure.
 * Wharf runs twice: with `--topics-flush always` (its default: fdatasync before a confirm) and `never`
 * (the OS writes back, as RabbitMQ's osiris does). RabbitMQ is skipped when Debian's rabbitmq-server is
 * not installed. Each figure also shows the client's CPU per message: near the wall time per message, the
 * client (one JavaScript thread) is the limit, whatever the broker does. BENCH_STREAM_ONLY (wharf |
 * rabbitmq), BENCH_STREAM_RUNS (3), BENCH_STREAM_COUNT (500,000 for 100 B; a fifth of it for 1 KiB).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cpuSeconds, fmt, freePort, lineFields, lineMatching, median, printTable, stopper } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TMP = path.join(ROOT, '.bench-tmp/streams');
const RUNS = Number(process.env.BENCH_STREAM_RUNS ?? 3);
const COUNT = Number(process.env.BENCH_STREAM_COUNT ?? 500_000);
const RABBITMQ = '/usr/lib/rabbitmq/bin/rabbitmq-server';

interface Broker {
  name: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function startWharf(flush: 'always' | 'never'): Promise<Broker> {
  const port = await freePort();
  const dataDir = path.join(TMP, `wharf-${flush}`);
  fs.rmSync(dataDir, { recursive: true, force: true });
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin/wharf.js'), 'start', '--data-dir', dataDir, '--kafka-port', '0', '--amqp-port', '0', '--rocket-port', '0', '--http-port', '0', '--stream-port', String(port), '--topics-flush', flush, '--host', '127.0.0.1', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await lineMatching(child, /^Wharf ready/);
  return { name: `wharf (flush ${flush})`, port, pid: child.pid!, stop: stopper(child) };
}

async function startRabbit(): Promise<Broker> {
  const base = path.join(TMP, 'rabbitmq');
  fs.rmSync(base, { recursive: true, force: true });
  fs.mkdirSync(base, { recursive: true });
  const port = await freePort();
  fs.writeFileSync(path.join(base, 'enabled_plugins'), '[rabbitmq_stream].');
  fs.writeFileSync(path.join(base, 'rabbitmq.conf'), `loopback_users = none\nstream.listeners.tcp.1 = 127.0.0.1:${port}\nstream.advertised_host = 127.0.0.1\nstream.advertised_port = ${port}\n`);
  const amqpPort = await freePort();
  const env = {
    ...process.env,
    HOME: base,
    RABBITMQ_NODENAME: `wharfstreambench${amqpPort}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(await freePort()),
    RABBITMQ_MNESIA_BASE: path.join(base, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(base, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(base, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: path.join(base, 'rabbitmq'),
  };
  const child = spawn(RABBITMQ, [], { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  await lineMatching(child, /Starting broker\.\.\. completed/);
  const beam = beamOf(`wharfstreambench${amqpPort}@localhost`);
  return {
    name: 'rabbitmq 3.10.8',
    port,
    pid: beam,
    stop: async () => {
      for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          // already gone
        }
        await new Promise((r) => setTimeout(r, 2000));
      }
    },
  };
}

/** The Erlang VM of a RabbitMQ node, found in /proc by the node name in its environment. */
function beamOf(node: string): number {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('beam.smp') && fs.readFileSync(`/proc/${entry}/environ`, 'utf8').includes(`RABBITMQ_NODENAME=${node}\0`)) return Number(entry);
    } catch {
      // gone
    }
  }
  throw new Error(`no beam.smp for ${node}`);
}

function worker(args: string[]): ChildProcess & { exited: Promise<unknown> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/workers/stream-client.ts'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return Object.assign(child, { exited: new Promise((resolve) => child.once('exit', resolve)) });
}

interface Phase {
  rate: number;
  /** Broker CPU µs per message. */
  cpuUs: number;
  /** Client CPU µs per message. */
  clientUs: number;
}

/** msg/s, broker and client CPU µs per message of one phase. */
async function phase(broker: Broker, args: string[], count: number): Promise<Phase> {
  const cpuBefore = cpuSeconds(broker.pid);
  const child = worker(args);
  const [, ms, clientMs] = await lineFields(child, 'done');
  await child.exited;
  return { rate: (count * 1000) / Number(ms), cpuUs: ((cpuSeconds(broker.pid) - cpuBefore) * 1e6) / count, clientUs: (Number(clientMs) * 1000) / count };
}

fs.rmSync(TMP, { recursive: true, force: true });
fs.mkdirSync(TMP, { recursive: true });
const only = process.env.BENCH_STREAM_ONLY;
const brokers: Broker[] = [];
if (only !== 'wharf') {
  if (fs.existsSync(RABBITMQ)) brokers.push(await startRabbit());
  else console.log('rabbitmq-server (Debian package rabbitmq-server) is not installed: the RabbitMQ column is skipped');
}
if (only !== 'rabbitmq') brokers.push(await startWharf('always'), await startWharf('never'));

type Row = Map<string, { rate: number[]; cpu: number[]; client: number[] }>;
const rows = new Map<string, Row>();
const record = (cell: string, broker: string, r: Phase) => {
  if (!rows.has(cell)) rows.set(cell, new Map());
  const row = rows.get(cell)!;
  if (!row.has(broker)) row.set(broker, { rate: [], cpu: [], client: [] });
  row.get(broker)!.rate.push(r.rate);
  row.get(broker)!.cpu.push(r.cpuUs);
  row.get(broker)!.client.push(r.clientUs);
};

let seq = 0;
process.once('uncaughtException', async (err) => {
  console.error(err);
  for (const broker of brokers) await broker.stop();
  process.exit(1);
});
for (let run = 0; run < RUNS; run++) {
  const turn = run % 2 === 0 ? brokers : [...brokers].reverse();
  for (const bytes of [100, 1024]) {
    const count = bytes === 100 ? COUNT : Math.round(COUNT / 5);
    for (const broker of turn) {
      const stream = `bench-${bytes}-${seq++}`;
      const published = await phase(broker, ['publish', String(broker.port), stream, String(count), String(bytes)], count);
      record(`${bytes} B publish, confirms`, broker.name, published);
      const consumed = await phase(broker, ['consume', String(broker.port), stream, String(count)], count);
      record(`${bytes} B consume from first`, broker.name, consumed);
      const cpu = (p: Phase) => `${p.cpuUs.toFixed(1)} µs CPU/msg, client ${p.clientUs.toFixed(1)} µs of ${(1e6 / p.rate).toFixed(1)}`;
      process.stderr.write(`${broker.name}: ${bytes} B: publish ${fmt(published.rate)} msg/s (${cpu(published)}), consume ${fmt(consumed.rate)} msg/s (${cpu(consumed)})\n`);
    }
  }
}
for (const broker of brokers) await broker.stop();

const names = brokers.map((b) => b.name);
const reference = names.find((n) => n.startsWith('rabbitmq'));
const wharfDefault = names.find((n) => n.includes('always'));
const compared = reference !== undefined && wharfDefault !== undefined;
printTable(
  `stream protocol msg/s (broker / client CPU µs per message), rabbitmq-stream-js-client in its own process, median of ${RUNS} (${fmt(COUNT)} × 100 B, ${fmt(COUNT / 5)} × 1 KiB)`,
  ['cell', ...names, ...(compared ? ['wharf (always) / rabbitmq', 'target'] : [])],
  [...rows].map(([cell, row]) => {
    const cellOf = (n: string) => `${fmt(median(row.get(n)!.rate))} (${median(row.get(n)!.cpu).toFixed(1)} / ${median(row.get(n)!.client).toFixed(1)} µs)`;
    const ratio = compared ? [`${(median(row.get(wharfDefault)!.rate) / median(row.get(reference)!.rate)).toFixed(2)}×`, '≥ 2×'] : [];
    return [cell, ...names.map(cellOf), ...ratio];
  }),
);
