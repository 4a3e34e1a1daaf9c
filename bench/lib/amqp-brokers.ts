/**
 * The AMQP benchmarks' brokers and load: Wharf (bin/wharf.js) and Debian's RabbitMQ 3.10.8 started side by
 * side on loopback ports, and one measured cell (publisher and consumer in separate amqplib processes,
 * bench/workers/amqp-client.ts).
 */
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, lineFields, lineMatching, stopper } from '../harness.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface Broker {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startWharf(tmp: string): Promise<Broker> {
  const port = await freePort();
  const dataDir = path.join(tmp, 'wharf');
  fs.rmSync(dataDir, { recursive: true, force: true });
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), 'start', '--data-dir', dataDir, '--kafka-port', '0', '--amqp-port', String(port), '--http-port', '0', '--host', '127.0.0.1', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await lineMatching(child, /^Wharf ready/);
  return { name: 'wharf', url: `amqp://guest:guest@127.0.0.1:${port}`, pid: child.pid!, stop: stopper(child) };
}

export async function startRabbit(tmp: string): Promise<Broker> {
  if (!fs.existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server')) execSync('apt-get install -y -qq rabbitmq-server', { stdio: 'inherit' });
  const base = path.join(tmp, 'rabbitmq');
  fs.rmSync(base, { recursive: true, force: true });
  fs.mkdirSync(base, { recursive: true });
  fs.writeFileSync(path.join(base, 'enabled_plugins'), '[].');
  fs.writeFileSync(path.join(base, 'rabbitmq.conf'), 'loopback_users = none\n');
  const port = await freePort();
  const env = {
    ...process.env,
    HOME: base,
    RABBITMQ_NODENAME: `wharfbench${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(await freePort()),
    RABBITMQ_MNESIA_BASE: path.join(base, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(base, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(base, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: path.join(base, 'rabbitmq'),
  };
  const child = spawn('/usr/lib/rabbitmq/bin/rabbitmq-server', [], { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  await lineMatching(child, /Starting broker\.\.\. completed/);
  // The Erlang VM itself: the child of the rabbitmq-server script.
  const beam = Number(execSync(`pgrep -P ${child.pid} beam.smp`).toString().trim());
  return {
    name: 'rabbitmq',
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    pid: beam,
    stop: async () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise((r) => setTimeout(r, 2000));
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

/** A load-generator process; `exited` is captured at spawn so an early exit is never missed. */
export function client(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess & { exited: Promise<unknown> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/workers/amqp-client.ts'), ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return Object.assign(child, { exited: new Promise((resolve) => child.once('exit', resolve)) });
}

export interface Cell {
  bytes: number;
  persistent: boolean;
  ack: boolean;
  confirms: boolean;
}

let seq = 0;
/** One cell on one broker: msg/s from the publisher's first to the consumer's last message (and latency when paced). `queueType` declares quorum queues. */
export async function runCell(broker: Broker, cell: Cell, count: number, rate = 0, queueType?: string): Promise<{ rate: number; p50?: number; p99?: number }> {
  const queue = `bench-${cell.persistent ? 'durable' : 'transient'}-${seq++}`;
  const env = queueType ? { ...process.env, BENCH_AMQP_QUEUE_TYPE: queueType } : process.env;
  const consumer = client(['consume', broker.url, queue, String(count), cell.ack ? '1' : '0', rate ? '1' : '0'], env);
  await lineFields(consumer, 'ready');
  const publisher = client(['publish', broker.url, queue, String(count), String(cell.bytes), cell.persistent ? '1' : '0', cell.confirms ? '1' : '0', String(rate)]);
  const [, first] = await lineFields(publisher, 'first');
  const [, last, p50, p99] = await lineFields(consumer, 'last');
  await Promise.all([publisher.exited, consumer.exited]);
  return { rate: (count * 1000) / (Number(last) - Number(first)), p50: p50 === undefined ? undefined : Number(p50), p99: p99 === undefined ? undefined : Number(p99) };
}

