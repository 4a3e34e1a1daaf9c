import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from './temp-dir.ts';

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

export interface RabbitMq {
  port: number;
  stop(): Promise<void>;
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
export async function startRabbitMq(): Promise<RabbitMq> {
  const dir = tempDir('wharf-rabbitmq-');
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  fs.writeFileSync(path.join(dir.path, 'enabled_plugins'), '[].');
  fs.writeFileSync(path.join(dir.path, 'rabbitmq.conf'), 'loopback_users = none\n');
  const env = {
    ...process.env,
    HOME: dir.path,
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODENAME: `wharf-reference-${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
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
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`rabbitmq-server did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { port, stop };
}
