import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface EtcdOptions {
  /** Raft heartbeat in ms (etcd's default 100). */
  readonly heartbeatMs?: number;
  /** Raft election timeout in ms (etcd's default 1000); etcd's shortest lease TTL is ceil(1.5 × this) in whole seconds. */
  readonly electionMs?: number;
  /** Milliseconds to wait for etcd to serve after each start. */
  readonly startTimeoutMs?: number;
  /** More client ports to listen on besides the first (so that a test can cut one client's port alone). */
  readonly extraClientPorts?: number;
}

const servers = new Set<EtcdServer>();
process.once('exit', () => {
  for (const server of servers) server.removeNow();
});

/**
 * One single-member etcd for a test file: loopback ports chosen per run, its data under /dev/shm (else
 * the OS temp dir), no fsync. It can be stopped (SIGTERM), killed (SIGKILL), paused (SIGSTOP) and started
 * again on the same data and ports. `remove()` (call it in afterAll) kills it and deletes its data; so does
 * the test process's exit, and etcd runs under `setpriv --pdeathsig KILL`, so it dies with the test
 * process even when that is killed.
 */
export class EtcdServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stderr = '';

  private constructor(
    readonly clientPort: number,
    private readonly peerPort: number,
    readonly dataDir: string,
    private readonly options: Required<EtcdOptions>,
    /** The extra client ports (`extraClientPorts`). */
    readonly extraPorts: readonly number[] = [],
  ) {}

  static async start(options: EtcdOptions = {}): Promise<EtcdServer> {
    const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
    const dataDir = fs.mkdtempSync(path.join(base, 'wharf-etcd-'));
    const [clientPort, peerPort, ...extraPorts] = await freePorts(2 + (options.extraClientPorts ?? 0));
    const server = new EtcdServer(clientPort!, peerPort!, dataDir, { heartbeatMs: 100, electionMs: 1000, startTimeoutMs: 20_000, extraClientPorts: 0, ...options }, extraPorts);
    servers.add(server);
    try {
      await server.restart();
    } catch (err) {
      await server.remove();
      throw err;
    }
    return server;
  }

  /** The client URL, e.g. `http://127.0.0.1:40123`. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  /** etcd's shortest lease TTL at these timings: ceil(1.5 × election timeout), in whole seconds. */
  get minLeaseTtlMs(): number {
    return Math.ceil((1.5 * this.options.electionMs) / 1000) * 1000;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts etcd (again) on the same data dir and ports; resolves once it answers /health. */
  async restart(): Promise<void> {
    if (this.child) this.child.kill('SIGKILL');
    await this.exited;
    const name = 'wharf-test';
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const args = [
      '--pdeathsig', 'KILL', '--', 'etcd',
      '--name', name,
      '--data-dir', this.dataDir,
      '--listen-client-urls', [this.endpoint, ...this.extraPorts.map((port) => `http://127.0.0.1:${port}`)].join(','),
      '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `${name}=${peer}`,
      '--heartbeat-interval', String(this.options.heartbeatMs),
      '--election-timeout', String(this.options.electionMs),
      '--unsafe-no-fsync',
      '--logger', 'zap',
      '--log-level', 'warn',
    ];
    const child = spawn('setpriv', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        if (this.child === child) this.child = undefined;
        resolve();
      });
      child.once('error', () => resolve());
    });
    const deadline = Date.now() + this.options.startTimeoutMs;
    while (!(await this.healthy())) {
      if (!this.child) throw new Error(`etcd exited while starting: ${this.stderr}`);
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`etcd did not serve within ${this.options.startTimeoutMs} ms: ${this.stderr}`);
      }
      await sleep(50);
    }
  }

  /** SIGTERM: etcd shuts down cleanly; resolves when it has exited. */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  /** SIGKILL: etcd dies at once; resolves when it has exited. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** SIGSTOP: etcd hangs with its sockets open (calls get no answer, connections no reset). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills etcd and deletes its data dir. */
  async remove(): Promise<void> {
    await this.kill();
    this.removeNow();
  }

  /** remove() for a process that is exiting: SIGKILL without waiting, then delete the data. */
  removeNow(): void {
    this.child?.kill('SIGKILL');
    fs.rmSync(this.dataDir, { recursive: true, force: true });
    servers.delete(this);
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    this.child?.kill(signal);
    await this.exited;
  }

  /** Whether etcd answers its health check now. */
  healthy(): Promise<boolean> {
    return new Promise((resolve) => {
      const request = http.get(`${this.endpoint}/health`, { timeout: 1000 }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(response.statusCode === 200 && body.includes('"health":"true"')));
      });
      request.on('timeout', () => request.destroy());
      request.on('error', () => resolve(false));
    });
  }
}

/** Ports the OS hands out on 127.0.0.1 now (held together, so they differ). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
