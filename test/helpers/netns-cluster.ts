import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { PartitionView } from './cluster.ts';
import { AGENT_PREFIX } from './netns-agent.ts';
import { ROOT } from './spawn.ts';

/**
 * A three-broker cluster with etcd in a network namespace of its own, driven through `netns-agent.ts`:
 * the faults it injects (iptables rules, cut etcd links) exist only inside that namespace, and the
 * namespace, with every process in it, goes when the agent exits.
 */
export class NetnsCluster {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (value: any) => void; reject: (err: Error) => void }>();

  private constructor(private readonly agent: ChildProcessWithoutNullStreams) {
    readline.createInterface({ input: agent.stdout }).on('line', (line) => {
      if (!line.startsWith(AGENT_PREFIX)) return;
      const { id, result, error } = JSON.parse(line.slice(AGENT_PREFIX.length)) as { id: number; result?: unknown; error?: string };
      const waiter = this.pending.get(id);
      this.pending.delete(id);
      if (error !== undefined) waiter?.reject(new Error(error));
      else waiter?.resolve(result);
    });
    agent.once('exit', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`the namespace agent exited with ${code}`));
      this.pending.clear();
    });
  }

  static async start(options: { leaseTtlMs: number; flags: string[] }): Promise<NetnsCluster> {
    const agent = spawn('unshare', ['-n', '--kill-child', process.execPath, '--import', 'tsx', path.join(ROOT, 'test/helpers/netns-agent.ts')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    agent.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    const cluster = new NetnsCluster(agent);
    await cluster.call('start', { nodes: 3, ...options });
    return cluster;
  }

  call<T = unknown>(command: string, args: object = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.agent.stdin.write(`${JSON.stringify({ id, command, args })}\n`);
    });
  }

  describe(topic: string, via?: number): Promise<PartitionView> {
    return this.call('describe', { topic, via });
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.agent.once('exit', resolve));
    this.agent.stdin.end();
    await exited;
  }
}
