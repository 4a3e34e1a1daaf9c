import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKeys } from '../../plugins/kafka/codec/index.ts';
import { TestCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/kafka.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';
import { hasProgram, runProgram } from '../helpers/programs.ts';
import { ROOT } from '../helpers/spawn.ts';

/**
 * Three broker processes and a real etcd; a librdkafka (confluent-kafka) transactional producer whose
 * transaction coordinator is killed with SIGKILL inside a transaction. librdkafka finds the new
 * coordinator (the new leader of the id's __transaction_state partition, which loaded its state from
 * the replicated log) and goes on; a read_committed consumer then reads each committed transaction's
 * records exactly once and nothing of the aborted ones.
 */
const CLIENT = path.join(ROOT, 'test/fixtures/txn-client.py');
const enabled = hasProgram('etcd', 'the cluster transaction failover test') && hasProgram('confluent-kafka', 'the cluster transaction failover test');
let cluster: TestCluster | undefined;

afterAll(async () => {
  await cluster?.remove();
});

const TRANSACTIONS = 16;
const PAUSE_AT = 6;

describe.skipIf(!enabled)('Kafka transactions across a cluster (etcd + 3 broker processes)', () => {
  it('survives a SIGKILL of the transaction coordinator mid-transaction: committed records read exactly once, aborted ones never', async () => {
    cluster = await TestCluster.start({
      nodes: 3,
      leaseTtlMs: 2000,
      flags: ['--replication-lag-max-ms', '5000', '--replication-offsets-partitions', '4', '--kafka-transaction-log-partitions', '4'],
    });
    const admin = cluster.client().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'txn', numPartitions: 2, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
    await admin.disconnect();

    const transactionalId = 'failover-producer';
    const coordinatorOf = async (): Promise<number> => {
      const wire = await KafkaWire.connect(cluster!.brokers.find((b) => b.running)!.kafkaPort);
      try {
        let nodeId = -1;
        await eventually(async () => {
          const found = await wire.request(ApiKeys.FindCoordinator, 3, { key: transactionalId, keyType: 1, coordinatorKeys: [] });
          nodeId = found.errorCode === 0 ? found.nodeId : -1;
          return nodeId > 0;
        }, 20_000, 'the transaction coordinator');
        return nodeId;
      } finally {
        wire.close();
      }
    };

    const child = spawn('/usr/bin/python3', [CLIENT, 'failover', cluster.bootstrap.join(','), 'txn', transactionalId, String(TRANSACTIONS), String(PAUSE_AT)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const outcomes = new Map<number, string>();
    let killed = -1;
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const [word, n] = line.split(' ');
      if (word === 'committed' || word === 'aborted') outcomes.set(Number(n), word);
      if (word !== 'pause') return;
      void (async () => {
        killed = await coordinatorOf();
        await cluster!.broker(killed).kill();
        child.stdin.write('\n');
      })();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, `${stderr}\n${cluster.logTail()}`).toBe(0);
    expect(killed).toBeGreaterThan(0);
    expect(outcomes.size).toBe(TRANSACTIONS);
    // The transaction open at the kill was committed by the successor, from the state the dead coordinator had replicated.
    expect(outcomes.get(PAUSE_AT)).toBe('committed');
    // The id is coordinated by another broker now, which took over the state from the replicated log.
    const successor = await coordinatorOf();
    expect(successor).not.toBe(killed);
    await cluster.broker(killed).start();

    const expected = [...outcomes].filter(([, outcome]) => outcome === 'committed').flatMap(([n]) => Array.from({ length: 5 }, (_, i) => `${n}-${i}`));
    expect(expected.length).toBeGreaterThanOrEqual(5 * Math.floor((TRANSACTIONS * 3) / 4));
    const read = await runProgram('/usr/bin/python3', [CLIENT, 'consume', cluster.bootstrap.join(','), 'txn', 'read_committed', '2'], { timeoutMs: 60_000 });
    const lines = read.trim().split('\n');
    expect(lines.at(-1)!.startsWith('end')).toBe(true);
    expect(lines.slice(0, -1)).toEqual(expected.sort());
  }, 240_000);
});
