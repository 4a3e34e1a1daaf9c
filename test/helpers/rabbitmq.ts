import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from './temp-dir.ts';

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

export interface RabbitMq {
  port: number;
  /** The management API's port, with the `management` option. */
  managementPort: number;
  /** rabbitmq_prometheus's port, with the `prometheus` option. */
  prometheusPort: number;
  /** rabbitmq_stream's port (the stream protocol), with the `stream` option. */
  streamPort: number;
  stop(): Promise<void>;
}

export interface RabbitMqOptions {
  /** Enable rabbitmq_management (the HTTP API) on a port chosen per run. */
  management?: boolean;
  /** Enable rabbitmq_prometheus on a port chosen per run. */
  prometheus?: boolean;
  /** Settings of the rabbit application (`-rabbit name value`), such as dead_letter_worker_publisher_confirm_timeout. */
  rabbitSettings?: Record<string, number>;
  /** Enable rabbitmq_stream (the stream protocol) on a port chosen per run. */
  stream?: boolean;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Debian's RabbitMQ 3.10 (`hasProgram('rabbitmq')` first) as a reference broker: loopback only, ports chosen
 * per run, its own epmd on its own port, all state in a temporary directory; stop() leaves nothing behind.
 */
export async function startRabbitMq(options: RabbitMqOptions = {}): Promise<RabbitMq> {
  const dir = tempDir('wharf-rabbitmq-');
  const [port, distPort, epmdPort, managementPort, prometheusPort, streamPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const plugins = [...(options.management ? ['rabbitmq_management'] : []), ...(options.prometheus ? ['rabbitmq_prometheus'] : []), ...(options.stream ? ['rabbitmq_stream'] : [])];
  fs.writeFileSync(path.join(dir.path, 'enabled_plugins'), `[${plugins.join(',')}].`);
  const conf = ['loopback_users = none'];
  // Statistics every 500 ms instead of 5 s, so that tests comparing them wait less.
  if (options.management || options.prometheus) conf.push('collect_statistics_interval = 500');
  if (options.management) conf.push(`management.tcp.ip = 127.0.0.1`, `management.tcp.port = ${managementPort}`);
  if (options.prometheus) conf.push(`prometheus.tcp.ip = 127.0.0.1`, `prometheus.tcp.port = ${prometheusPort}`);
  if (options.stream) conf.push(`stream.listeners.tcp.1 = 127.0.0.1:${streamPort}`, 'stream.advertised_host = 127.0.0.1', `stream.advertised_port = ${streamPort}`);
  fs.writeFileSync(path.join(dir.path, 'rabbitmq.conf'), `${conf.join('\n')}\n`);
  const env = {
    ...process.env,
    HOME: dir.path,
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODENAME: `wharf-reference-${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: ['-kernel inet_dist_use_interface {127,0,0,1}', ...Object.entries(options.rabbitSettings ?? {}).map(([name, value]) => `-rabbit ${name} ${value}`)].join(' '),
    RABBITMQ_MNESIA_BASE: path.join(dir.path, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir.path, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir.path, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: path.join(dir.path, 'rabbitmq'),
  };
  const child = spawn(SERVER, [], { env, stdio: 'ignore', detached: true });
  const killAll = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  const stop = async () => {
    killAll('SIGTERM');
    const exited = new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    killAll('SIGKILL');
    spawnSync('epmd', ['-port', String(epmdPort), '-kill'], { env, stdio: 'ignore' });
    dir.remove();
  };
  const deadline = Date.now() + 60_000;
  const ready = async () =>
    (await accepts(port)) &&
    (!options.management || (await accepts(managementPort))) &&
    (!options.prometheus || (await accepts(prometheusPort))) &&
    (!options.stream || (await accepts(streamPort)));
  while (!(await ready())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`rabbitmq-server did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { port, managementPort, prometheusPort, streamPort, stop };
}
