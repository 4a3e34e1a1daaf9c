import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { exitCode, ROOT, waitForLine } from './spawn.ts';

export interface BrokerProcess {
  child: ChildProcess;
  /** Ports by protocol, from the readiness line (absent: the listener is off). */
  ports: Record<string, number>;
  /** Everything the broker wrote to stderr so far (its logs). */
  stderr(): string;
  /** SIGTERM (a clean shutdown) and the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/** The CLI broker (`bin/wharf.js start`) in a child process on loopback, every listener on an OS-chosen port. */
export async function startBrokerProcess(dataDir: string, extra: readonly string[] = []): Promise<BrokerProcess> {
  const args = ['start', '--data-dir', dataDir, '--kafka-port', 'auto', '--amqp-port', 'auto', '--rocket-port', 'auto', '--stream-port', 'auto', '--http-port', 'auto', '--host', '127.0.0.1', '--log-level', 'warn', '--groups-initial-rebalance-delay-ms', '0', ...extra];
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = await waitForLine(child, /^Wharf ready/, 30_000);
  const ports: Record<string, number> = {};
  for (const [, protocol, port] of ready.matchAll(/([\w-]+) 127\.0\.0\.1:(\d+)/g)) ports[protocol!] = Number(port);
  return {
    child,
    ports,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      return exitCode(child);
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exitCode(child);
    },
  };
}
