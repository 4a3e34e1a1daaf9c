import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { describe, expect, it } from 'vitest';
import { ApiKeys } from '../../plugins/kafka/codec/index.ts';
import net from 'node:net';
import { KafkaWire } from '../helpers/kafka-wire.ts';
import { hasProgram } from '../helpers/programs.ts';
import { ROOT } from '../helpers/spawn.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe.skipIf(!hasProgram('etcd', 'the wharf cluster test'))('wharf cluster', () => {
  it('starts etcd and N brokers that form one cluster, and stops them all on SIGINT', async () => {
    const dir = tempDir('wharf-local-cluster-');
    const etcdPort = await freeRun(2);
    const kafkaPort = await freeRun(2);
    const replicationPort = await freeRun(2);
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'bin/wharf.js'), 'cluster', '--nodes', '2', '--data-dir', dir.path, '--etcd-port', String(etcdPort), '--kafka-port', String(kafkaPort), '--replication-port', String(replicationPort)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    try {
      const lines: string[] = [];
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const ready = new Promise<void>((resolve, reject) => {
        readline.createInterface({ input: child.stdout }).on('line', (line) => {
          lines.push(line);
          if (lines.filter((l) => / Wharf ready: /.test(l)).length === 2) resolve();
        });
        child.once('exit', (code) => reject(new Error(`wharf cluster exited with ${code}: ${stderr}${lines.join('\n')}`)));
      });
      await Promise.race([ready, new Promise((_, reject) => setTimeout(() => reject(new Error(`not ready: ${stderr}${lines.join('\n')}`)), 60_000))]);
      expect(lines.some((l) => /^node 1 .*registered in the cluster .*pid=\d+/.test(l))).toBe(true);
      const wire = await KafkaWire.connect(kafkaPort);
      const metadata = await wire.request(ApiKeys.Metadata, 8, { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false } as never);
      wire.close();
      expect((metadata as { brokers: Array<{ nodeId: number; port: number }> }).brokers.map((b) => [b.nodeId, b.port])).toEqual([
        [1, kafkaPort],
        [2, kafkaPort + 1],
      ]);
      child.kill('SIGINT');
      expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    } finally {
      // The whole process group: etcd and the brokers too, should the test fail before SIGINT stopped them.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      dir.remove();
    }
  }, 90_000);
});

/**
 * `count` consecutive free ports (wharf cluster numbers its nodes' ports consecutively), below the
 * kernel's ephemeral range so that no outgoing connection's local port takes one meanwhile.
 */
async function freeRun(count: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const bound: net.Server[] = [];
    try {
      for (let i = 0; i < count; i++) {
        bound.push(await new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer().once('error', reject);
          server.listen(base + i, '127.0.0.1', () => resolve(server));
        }));
      }
      return base;
    } catch {
      // taken: try another run
    } finally {
      await Promise.all(bound.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  }
}
