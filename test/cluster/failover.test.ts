import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../../core/index.ts';
import { ApiKeys } from '../../plugins/kafka/codec/index.ts';
import { readPartition, TestCluster } from '../helpers/cluster.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';
import { eventually } from '../helpers/kafka.ts';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { hasProgram, runProgram, runPython } from '../helpers/programs.ts';

/**
 * Three broker processes and a real etcd: kill -9 the leader of an acks=all idempotent load again and
 * again, and check that every acknowledged message is readable afterwards exactly once and in order.
 */
const enabled = hasProgram('etcd', 'the cluster failover tests');
let cluster: TestCluster;
let client: Kafka;
let admin: Admin;

beforeAll(async () => {
  if (!enabled) return;
  cluster = await TestCluster.start({ nodes: 3, leaseTtlMs: 2000, flags: ['--replication-lag-max-ms', '5000'] });
  client = cluster.client();
  admin = client.admin();
  await admin.connect();
}, 120_000);

afterAll(async () => {
  if (!enabled) return;
  await admin?.disconnect();
  await cluster?.remove();
});

async function leaderOf(topic: string, partition = 0): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]!.partitions.find((p) => p.partitionId === partition)!.leader;
}

async function isr(topic: string, partition = 0): Promise<number[]> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return [...metadata.topics[0]!.partitions.find((p) => p.partitionId === partition)!.isr].sort();
}

/** Every value in the partition, read from the beginning to the high watermark by a fresh consumer group. */
async function readAll(topic: string): Promise<number[]> {
  const [{ high }] = (await admin.fetchTopicOffsets(topic)) as Array<{ high: string }>;
  const values: number[] = [];
  const consumer = client.consumer({ groupId: `reader-${Date.now()}`, sessionTimeout: 6000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void values.push(Number(message.value!.toString())) });
  await eventually(() => values.length >= Number(high), 30_000, `reading ${high} records of ${topic}`);
  await consumer.disconnect();
  return values;
}

/** An idempotent acks=all producer sending 0, 1, 2, ... one at a time until stopped; records what was acknowledged. */
function produceUntilStopped(producer: Producer, topic: string) {
  const acked: number[] = [];
  let stopped = false;
  let next = 0;
  const done = (async () => {
    while (!stopped) {
      const value = next++;
      await producer.send({ topic, acks: -1, messages: [{ value: String(value) }] });
      acked.push(value);
    }
  })();
  return {
    acked,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

describe.skipIf(!enabled)('cluster failover (etcd + 3 broker processes)', () => {
  it('loses no acknowledged message and duplicates none when the leader is killed with SIGKILL, three times over', async () => {
    await admin.createTopics({ topics: [{ topic: 'failover', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const load = produceUntilStopped(producer, 'failover');
    try {
      for (let trial = 0; trial < 3; trial++) {
        const before = load.acked.length;
        await eventually(() => load.acked.length >= before + 100, 30_000, 'acknowledged produces before the kill');
        const victim = cluster.broker(await leaderOf('failover'));
        await victim.kill();
        const atKill = load.acked.length;
        await eventually(() => load.acked.length >= atKill + 100, 30_000, 'acknowledged produces on the new leader');
        expect(await leaderOf('failover')).not.toBe(victim.nodeId);
        await victim.start();
        await eventually(async () => (await isr('failover')).length === 3, 30_000, 'the restarted broker back in the ISR');
      }
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${cluster.logTail()}`);
    } finally {
      await load.stop();
      await producer.disconnect();
    }
    const stored = await readAll('failover');
    expect(stored.length).toBeGreaterThanOrEqual(load.acked.length);
    expect(new Set(stored).size).toBe(stored.length);
    expect([...stored].sort((a, b) => a - b)).toEqual(stored);
    const present = new Set(stored);
    expect(load.acked.filter((v) => !present.has(v))).toEqual([]);
  }, 180_000);

  it.skipIf(!hasProgram('confluent-kafka', 'the librdkafka failover test') || !hasProgram('kafka-python', 'the kafka-python failover test') || !hasProgram('kcat', 'the kcat failover test'))(
    'librdkafka (confluent-kafka) fails over by itself mid-load; kafka-python and kcat then read every delivered message once, in order',
    async () => {
      await admin.createTopics({ topics: [{ topic: 'librdkafka', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
      const bootstrap = cluster.bootstrap.join(',');
      const script = `
from confluent_kafka import Producer
import time
p = Producer({'bootstrap.servers': '${bootstrap}', 'enable.idempotence': True, 'acks': 'all', 'linger.ms': 5, 'message.timeout.ms': 60000})
delivered = []
def report(err, msg):
    if err is None: delivered.append(msg.value().decode())
for i in range(3000):
    p.produce('librdkafka', value=str(i), on_delivery=report)
    p.poll(0)
    if i % 50 == 0: time.sleep(0.01)
    if i == 1000: print('KILL', flush=True)
assert p.flush(60) == 0
print('DELIVERED', ' '.join(delivered), flush=True)
`;
      const child = spawn('/usr/bin/python3', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let delivered: string[] = [];
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const victim = cluster.broker(await leaderOf('librdkafka'));
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        if (line === 'KILL') void victim.kill();
        if (line.startsWith('DELIVERED')) delivered = line.split(' ').slice(1);
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, stderr).toBe(0);
      expect(delivered).toHaveLength(3000);
      await victim.start();
      const live = cluster.bootstrap.join(',');
      const viaPython = await runPython(`
from kafka import KafkaConsumer
c = KafkaConsumer('librdkafka', bootstrap_servers='${live}'.split(','), group_id='py-reader', auto_offset_reset='earliest', consumer_timeout_ms=5000)
print(' '.join(m.value.decode() for m in c))
c.close()
`);
      expect(viaPython.trim().split(' ')).toEqual(delivered);
      const viaKcat = await runProgram('kcat', ['-C', '-b', live, '-t', 'librdkafka', '-o', 'beginning', '-e', '-q']);
      expect(viaKcat.trim().split('\n')).toEqual(delivered);
    },
    120_000,
  );

  it('answers an idempotent batch retried on the new leader with its original offsets: followers keep producer state too', async () => {
    await admin.createTopics({ topics: [{ topic: 'retry', numPartitions: 1, replicationFactor: 3 }] });
    const old = cluster.broker(await leaderOf('retry'));
    const wire = await KafkaWire.connect(old.kafkaPort);
    const { producerId, producerEpoch } = await wire.request(ApiKeys.InitProducerId, 1, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    const batch = (baseSequence: number, values: string[]) => encodeRecordBatch({ producerId, producerEpoch, baseSequence, records: values.map((v) => ({ value: Buffer.from(v) })) });
    const produce = (records: Buffer) => ({ transactionalId: null, acks: -1, timeoutMs: 10_000, topicData: [{ name: 'retry', partitionData: [{ index: 0, records }] }] });
    const first = (await wire.request(ApiKeys.Produce, 7, produce(batch(0, ['a', 'b', 'c'])))).responses[0]!.partitionResponses[0]!;
    expect(first).toMatchObject({ errorCode: 0, baseOffset: 0 });
    wire.close();
    await old.kill();
    const survivors = cluster.brokers.filter((b) => b.running);
    let leader = -1;
    await eventually(async () => {
      const metadata = await cluster.client({ brokers: survivors.map((b) => b.bootstrap) }).admin().fetchTopicMetadata({ topics: ['retry'] }).catch(() => undefined);
      leader = metadata?.topics[0]?.partitions[0]?.leader ?? -1;
      return leader !== -1 && leader !== old.nodeId;
    }, 30_000, 'a new leader');
    const next = await KafkaWire.connect(cluster.broker(leader).kafkaPort);
    const retried = (await next.request(ApiKeys.Produce, 7, produce(batch(0, ['a', 'b', 'c'])))).responses[0]!.partitionResponses[0]!;
    expect(retried).toMatchObject({ errorCode: 0, baseOffset: 0 });
    const after = (await next.request(ApiKeys.Produce, 7, produce(batch(3, ['d'])))).responses[0]!.partitionResponses[0]!;
    expect(after).toMatchObject({ errorCode: 0, baseOffset: 3 });
    next.close();
    expect(await readPartition(cluster.bootstrap, 'retry')).toEqual(['a', 'b', 'c', 'd']);
    await old.start();
  }, 120_000);
});
