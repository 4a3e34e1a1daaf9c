/**
 * Cluster mode (etcd + broker processes on this machine), each figure beside a reference measured in
 * the same run:
 *  - failover: kill -9 the leader of an acks=all idempotent load, BENCH_CLUSTER_KILLS times (default 20);
 *    time from the kill to the first acknowledged produce on the new leader, beside etcd's own lease
 *    expiry (a key under a 2 s lease, keepalives stopped, until its delete is seen); lost and duplicated
 *    acknowledged messages over all kills;
 *  - produce throughput, RF=3 acks=all on 3 brokers, beside a single node, same kcat command;
 *  - 2 brokers, RF=1 topics led one by each, 2 kcat producers: aggregate beside one broker taking both.
 * Needs Debian's etcd-server and kcat. BENCH_CLUSTER_RECORDS (default 1,000,000) sets the volume.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { encodeRecordBatch } from '../core/index.ts';
import { EtcdCoordination } from '../plugins/cluster-etcd/index.ts';
import { ApiKeys } from '../plugins/kafka/codec/index.ts';
import { readPartition, TestCluster } from '../test/helpers/cluster.ts';
import { KafkaWire } from '../test/helpers/kafka-wire.ts';
import { fmt, freePort, lineMatching, median, percentile, printTable, shell, stopper } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TMP = path.join(ROOT, '.bench-tmp/cluster');
const KILLS = Number(process.env.BENCH_CLUSTER_KILLS ?? 20);
const RECORDS = Number(process.env.BENCH_CLUSTER_RECORDS ?? 1_000_000);
const RUNS = 3;
const LEASE_MS = 2000;
const PRODUCER_FLAGS = ['-X', 'linger.ms=10', '-X', 'batch.num.messages=100000', '-X', 'batch.size=1000000', '-X', 'queue.buffering.max.kbytes=2097151', '-X', 'queue.buffering.max.messages=10000000'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

fs.rmSync(TMP, { recursive: true, force: true });
fs.mkdirSync(TMP, { recursive: true });

// ---- failover ----

interface Ack {
  value: number;
  at: number;
  /** The Kafka port of the broker that acknowledged it. */
  port: number;
}

/**
 * An idempotent acks=all producer on the bare protocol, one batch in flight, that retries every 20 ms
 * after any failure, finding the leader through Metadata from whichever broker answers: it measures the
 * cluster's failover rather than a client library's back-off.
 */
class FailoverProducer {
  readonly acked: Ack[] = [];
  private wire: KafkaWire | undefined;
  /** The Kafka port of the leader this producer sends to now (0 while it looks for one). */
  leaderPort = 0;
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(
    private readonly cluster: TestCluster,
    private readonly topic: string,
  ) {}

  start(): void {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    this.wire?.close();
  }

  private async run(): Promise<void> {
    const init = await this.call(this.cluster.brokers[0]!.kafkaPort, (w) => w.request(ApiKeys.InitProducerId, 1, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 } as never));
    const { producerId, producerEpoch } = init as { producerId: number; producerEpoch: number };
    for (let value = 0; !this.stopped; ) {
      try {
        if (!this.wire) await this.connectToLeader();
        const batch = encodeRecordBatch({ producerId, producerEpoch, baseSequence: value, records: [{ value: Buffer.from(String(value)) }] });
        const response = (await this.timed(
          this.wire!.request(ApiKeys.Produce, 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: this.topic, partitionData: [{ index: 0, records: batch }] }] } as never),
          this.wire!,
        )) as { responses: Array<{ partitionResponses: Array<{ errorCode: number }> }> };
        if (response.responses[0]!.partitionResponses[0]!.errorCode === 0) {
          this.acked.push({ value, at: performance.now(), port: this.leaderPort });
          value++;
        } else this.drop();
      } catch {
        this.drop();
      }
      if (!this.wire) await sleep(20);
    }
  }

  private drop(): void {
    this.wire?.close();
    this.wire = undefined;
    this.leaderPort = 0;
  }

  private async connectToLeader(): Promise<void> {
    for (const broker of this.cluster.brokers.filter((b) => b.running)) {
      try {
        const metadata = (await this.call(broker.kafkaPort, (w) =>
          w.request(ApiKeys.Metadata, 8, { topics: [{ name: this.topic }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false } as never),
        )) as { brokers: Array<{ nodeId: number; port: number }>; topics: Array<{ partitions: Array<{ leaderId: number }> }> };
        const leader = metadata.topics[0]!.partitions[0]!.leaderId;
        const port = metadata.brokers.find((b) => b.nodeId === leader)?.port;
        if (port === undefined) continue;
        this.wire = await KafkaWire.connect(port);
        this.leaderPort = port;
        return;
      } catch {
        // try the next broker
      }
    }
  }

  private async call<T>(port: number, use: (wire: KafkaWire) => Promise<T>): Promise<T> {
    const wire = await KafkaWire.connect(port);
    try {
      return await this.timed(use(wire), wire);
    } finally {
      wire.close();
    }
  }

  /** A request that fails when its connection closes or no answer comes within 6 s. */
  private timed<T>(request: Promise<T>, wire: KafkaWire): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      request,
      wire.closed.then(() => Promise.reject(new Error('closed'))),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), 6000))),
    ]).finally(() => clearTimeout(timer));
  }
}

/** How long etcd takes to delete a key whose lease stops being kept alive (the floor under any etcd failover). */
async function leaseExpiryMs(endpoint: string): Promise<number> {
  const client = new EtcdCoordination({ endpoints: [endpoint], name: 'bench-lease', leaseTtlMs: LEASE_MS, requestTimeoutMs: 2000 });
  await client.connect();
  const lease = await client.grantLease(LEASE_MS);
  const key = `probe-${Date.now()}`;
  const created = await client.txn([], [{ type: 'put', key, value: Buffer.from('x'), lease }]);
  const gone = new Promise<number>((resolve) => {
    const watch = client.watch(key, created.revision + 1, {
      onEvents: (events) => {
        if (events.some((e) => e.type === 'delete')) {
          watch.cancel();
          resolve(performance.now());
        }
      },
      onBroken: () => undefined,
    });
  });
  const lastKeepAlive = performance.now();
  await client.keepAlive(lease);
  const deleted = await gone;
  await client.close();
  return deleted - lastKeepAlive;
}

async function leaderOf(cluster: TestCluster, topic: string): Promise<number> {
  for (;;) {
    const live = cluster.brokers.find((b) => b.running)!;
    const wire = await KafkaWire.connect(live.kafkaPort);
    const metadata = (await wire.request(ApiKeys.Metadata, 8, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false } as never)) as {
      topics: Array<{ partitions: Array<{ leaderId: number; isrNodes: number[] }> }>;
    };
    wire.close();
    const p = metadata.topics[0]?.partitions[0];
    if (p && p.leaderId >= 0) return p.leaderId;
    await sleep(50);
  }
}

async function isrSize(cluster: TestCluster, topic: string): Promise<number> {
  const live = cluster.brokers.find((b) => b.running)!;
  const wire = await KafkaWire.connect(live.kafkaPort);
  const metadata = (await wire.request(ApiKeys.Metadata, 8, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false } as never)) as {
    topics: Array<{ partitions: Array<{ isrNodes: number[] }> }>;
  };
  wire.close();
  return metadata.topics[0]?.partitions[0]?.isrNodes.length ?? 0;
}

async function createTopic(cluster: TestCluster, topic: string, replicationFactor: number, configs: Array<{ name: string; value: string }> = []): Promise<void> {
  const admin = cluster.client().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor, configEntries: configs }] });
  await admin.disconnect();
}

const failoverRows: string[][] = [];
{
  const cluster = await TestCluster.start({ nodes: 3, leaseTtlMs: LEASE_MS, flags: ['--replication-leader-rebalance-interval-ms', '0'] });
  try {
    await createTopic(cluster, 'failover', 3, [{ name: 'min.insync.replicas', value: '2' }]);
    const producer = new FailoverProducer(cluster, 'failover');
    producer.start();
    const failovers: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const before = producer.acked.length;
      while (producer.acked.length < before + 50 || producer.leaderPort === 0) await sleep(20);
      // The broker the producer is being acknowledged by is the leader, whatever any metadata cache says.
      const victim = cluster.brokers.find((b) => b.kafkaPort === producer.leaderPort)!;
      const killedAt = performance.now();
      await victim.kill();
      const afterKill = (a: Ack) => a.at > killedAt && a.port !== victim.kafkaPort;
      while (!producer.acked.some(afterKill)) await sleep(5);
      failovers.push(producer.acked.find(afterKill)!.at - killedAt);
      process.stdout.write(`kill ${kill + 1}/${KILLS}: ${fmt(failovers[failovers.length - 1]!)} ms\n`);
      await victim.start();
      while ((await isrSize(cluster, 'failover')) < 3) await sleep(100);
    }
    await producer.stop();
    const stored = (await readPartition(cluster.bootstrap, 'failover')).map(Number);
    const present = new Set(stored);
    const lost = producer.acked.filter((a) => !present.has(a.value)).length;
    const duplicates = stored.length - present.size;
    const expiries: number[] = [];
    for (let i = 0; i < 5; i++) expiries.push(await leaseExpiryMs(cluster.etcd.endpoint));
    failoverRows.push(
      ['failover p50', `${fmt(percentile(failovers, 50))} ms`, `${fmt(median(expiries))} ms`, '', 'etcd lease expiry alone (median of 5)'],
      ['failover p99', `${fmt(percentile(failovers, 99))} ms`, `${fmt(Math.max(...expiries))} ms`, '< 3,000 ms', 'etcd lease expiry alone (max of 5)'],
      ['acknowledged messages lost', String(lost), '', '0', `${fmt(producer.acked.length)} acknowledged over ${KILLS} kills`],
      ['acknowledged messages duplicated', String(duplicates), '', '0', 'idempotent producer retrying across each failover'],
    );
  } finally {
    await cluster.remove();
  }
}
printTable(`failover: kill -9 of the leader, ${KILLS} times, ${LEASE_MS} ms broker lease`, ['measurement', 'wharf', 'reference', 'target', 'reference is'], failoverRows);

// ---- throughput ----

const input = path.join(TMP, 'records.txt');
fs.writeFileSync(input, `${'x'.repeat(99)}\n`.repeat(RECORDS));

async function singleNode(flush: string): Promise<{ address: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const dir = path.join(TMP, `single-${port}`);
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), 'start', '--data-dir', dir, '--topics-flush', flush, '--kafka-port', String(port), '--amqp-port', '0', '--rocket-port', '0', '--stream-port', '0', '--http-port', '0', '--host', '127.0.0.1', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await lineMatching(child, /^Wharf ready/);
  const stop = stopper(child);
  return { address: `127.0.0.1:${port}`, stop: async () => (await stop(), fs.rmSync(dir, { recursive: true, force: true })) };
}

async function kcatProduce(bootstrap: string, topic: string, acks: string): Promise<number> {
  const run = await shell(`kcat -P -b ${bootstrap} -t ${topic} -p 0 -X acks=${acks} ${PRODUCER_FLAGS.join(' ')} -l ${input}`);
  return RECORDS / run.seconds;
}

const throughputRows: string[][] = [];
{
  const rf3: number[] = [];
  const single: number[] = [];
  const cluster = await TestCluster.start({ nodes: 3, leaseTtlMs: 5000 });
  try {
    for (let run = 0; run < RUNS; run++) {
      const node = await singleNode('always');
      single.push(await kcatProduce(node.address, `single-${run}`, 'all'));
      await node.stop();
      await createTopic(cluster, `rf3-${run}`, 3, [{ name: 'min.insync.replicas', value: '2' }]);
      rf3.push(await kcatProduce(cluster.bootstrap.join(','), `rf3-${run}`, 'all'));
    }
  } finally {
    await cluster.remove();
  }
  const r = median(rf3) / median(single);
  throughputRows.push([`RF=3 acks=all, 3 brokers, flush always`, `${fmt(median(rf3))} rec/s`, `${fmt(median(single))} rec/s`, `${r.toFixed(2)}×`, '≥ 0.3×', 'one broker, acks=all, flush always']);
}
{
  const spread: number[] = [];
  const one: number[] = [];
  const cluster = await TestCluster.start({ nodes: 2, leaseTtlMs: 5000, flags: ['--topics-flush', 'never'] });
  try {
    for (let run = 0; run < RUNS; run++) {
      const topics: string[] = [];
      for (let i = 0; topics.length < 2; i++) {
        const name = `spread-${run}-${i}`;
        await createTopic(cluster, name, 1);
        const leader = await leaderOf(cluster, name);
        if (!topics.some((t) => t.endsWith(`@${leader}`))) topics.push(`${name}@${leader}`);
      }
      const started = performance.now();
      await Promise.all(topics.map((t) => shell(`kcat -P -b ${cluster.bootstrap.join(',')} -t ${t.split('@')[0]} -p 0 -X acks=1 ${PRODUCER_FLAGS.join(' ')} -l ${input}`)));
      spread.push((2 * RECORDS) / ((performance.now() - started) / 1000));
      const node = await singleNode('never');
      const alone = performance.now();
      await Promise.all(['a', 'b'].map((t) => shell(`kcat -P -b ${node.address} -t one-${run}-${t} -p 0 -X acks=1 ${PRODUCER_FLAGS.join(' ')} -l ${input}`)));
      one.push((2 * RECORDS) / ((performance.now() - alone) / 1000));
      await node.stop();
    }
  } finally {
    await cluster.remove();
  }
  const r = median(spread) / median(one);
  throughputRows.push(['2 brokers, RF=1 spread, 2 kcat producers, acks=1', `${fmt(median(spread))} rec/s`, `${fmt(median(one))} rec/s`, `${r.toFixed(2)}×`, '≥ 1.3×', 'one broker taking both producers']);
}
printTable(`produce throughput, ${fmt(RECORDS)} records of 100 B per producer, median of ${RUNS}`, ['measurement', 'wharf cluster', 'reference', 'ratio', 'target', 'reference is'], throughputRows);
fs.rmSync(TMP, { recursive: true, force: true });
