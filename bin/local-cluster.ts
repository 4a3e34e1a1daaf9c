import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { BrokerError } from '../core/index.ts';

export interface LocalClusterOptions {
  nodes: number;
  dataDir: string;
  etcdPort: number;
  kafkaPort: number;
  replicationPort: number;
  /** The first broker's admin HTTP port (the next ones count up); 0 leaves the admin servers off. */
  httpPort: number;
  leaseTtlMs: number;
  /** Flags passed on to every broker. */
  brokerFlags: string[];
}

const COLOURS = [36, 33, 35, 32, 34, 31];

/** The launcher, bin/wharf.js, found from here whether this runs from bin/ (sources) or dist/bin/ (compiled). */
function launcher(): string {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'bin', 'wharf.js');
    if (dir === path.dirname(dir)) throw new BrokerError('BROKER_STATE', `no package.json above ${import.meta.dirname}`);
  }
}

/**
 * `wharf cluster`: a local etcd (Debian's etcd-server) and N brokers on loopback, each on its own data
 * directory and ports, with their logs interleaved one readable line each. Ctrl-C stops the brokers
 * with a controlled shutdown, then etcd.
 */
export async function runLocalCluster(options: LocalClusterOptions): Promise<void> {
  if (spawnSync('etcd', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new BrokerError('CONFIG_INVALID', 'wharf cluster needs etcd 3.4+ on the PATH (Debian: apt-get install etcd-server)');
  }
  const dataDir = path.resolve(options.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const children: ChildProcess[] = [];
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping the brokers (controlled shutdown), then etcd\n');
    const brokers = children.slice(1);
    await Promise.all(brokers.map((c) => exited(c, 'SIGTERM')));
    if (children[0]) await exited(children[0], 'SIGTERM');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  const etcdUrl = `http://127.0.0.1:${options.etcdPort}`;
  const etcd = spawn(
    'etcd',
    [
      '--name', 'wharf-local',
      '--data-dir', path.join(dataDir, 'etcd'),
      '--listen-client-urls', etcdUrl,
      '--advertise-client-urls', etcdUrl,
      '--listen-peer-urls', `http://127.0.0.1:${options.etcdPort + 1}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${options.etcdPort + 1}`,
      '--initial-cluster', `wharf-local=http://127.0.0.1:${options.etcdPort + 1}`,
      '--auto-compaction-mode', 'revision',
      '--auto-compaction-retention', '10000',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(etcd);
  const etcdTail: string[] = [];
  prefixLines(etcd, 'etcd  ', 90, (line) => {
    etcdTail.push(line);
    if (etcdTail.length > 10) etcdTail.shift();
    return /"level":"(warn|error)"| [WEC] \| /.test(line) ? line : undefined;
  });
  await waitForEtcd(etcdUrl, etcd, () => etcdTail.join('\n'));

  const bootstrap: string[] = [];
  for (let node = 1; node <= options.nodes; node++) {
    const kafkaPort = options.kafkaPort + node - 1;
    bootstrap.push(`127.0.0.1:${kafkaPort}`);
    const args = [
      launcher(),
      'start',
      '--node-id', String(node),
      '--data-dir', path.join(dataDir, `node-${node}`),
      '--cluster-etcd', etcdUrl,
      '--cluster-lease-ttl-ms', String(options.leaseTtlMs),
      '--host', '127.0.0.1',
      '--kafka-port', String(kafkaPort),
      '--replication-port', String(options.replicationPort + node - 1),
      '--amqp-port', '0',
      '--rocket-port', '0', '--stream-port', '0',
      '--http-port', options.httpPort === 0 ? '0' : String(options.httpPort + node - 1),
      ...options.brokerFlags,
    ];
    const broker = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(broker);
    const label = `node ${node}`.padEnd(6);
    prefixLines(broker, label, COLOURS[(node - 1) % COLOURS.length]!, readableLog);
    broker.once('exit', (code, signal) => {
      if (!stopping) process.stdout.write(`${label} exited (${signal ?? code}); restart it with: node ${args.join(' ')}\n`);
    });
  }
  process.stdout.write(
    [
      '',
      `Wharf cluster: ${options.nodes} brokers, etcd at ${etcdUrl}, data under ${dataDir}`,
      `  bootstrap servers: ${bootstrap.join(',')}`,
      ...(options.httpPort === 0 ? [] : [`  admin HTTP: ${Array.from({ length: options.nodes }, (_, i) => `http://127.0.0.1:${options.httpPort + i}`).join(' ')}`]),
      `  try: kcat -b ${bootstrap[0]} -L`,
      `       seq 1 100000 | kcat -P -b ${bootstrap.join(',')} -t demo -X acks=all -X enable.idempotence=true`,
      '       then kill -9 the leader (its pid is in its "registered" line) and watch another broker take over',
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

/** A pino JSON line as `HH:MM:SS LEVEL msg key=value ...`; other lines as they are. */
function readableLog(line: string): string | undefined {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, name: _name, hostname: _hostname, plugin: _plugin, component: _component, ...rest } = entry;
  const levels: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
  const clock = new Date(Number(time)).toISOString().slice(11, 23);
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  return `${clock} ${levels[Number(level)] ?? String(level)} ${String(msg)}${fields ? `  ${fields}` : ''}`;
}

function prefixLines(child: ChildProcess, label: string, colour: number, format: (line: string) => string | undefined): void {
  const tty = process.stdout.isTTY;
  const tag = tty ? `\u001b[${colour}m${label}\u001b[0m` : label;
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    readline.createInterface({ input: stream }).on('line', (line) => {
      const text = format(line);
      if (text !== undefined) process.stdout.write(`${tag} ${text}\n`);
    });
  }
}

async function waitForEtcd(url: string, etcd: ChildProcess, tail: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (etcd.exitCode !== null) throw new BrokerError('BROKER_STATE', `etcd exited with ${etcd.exitCode}:\n${tail()}`);
    const healthy = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new BrokerError('BROKER_STATE', `etcd did not start serving at ${url}`);
}

function exited(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
