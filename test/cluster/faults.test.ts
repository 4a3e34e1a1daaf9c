import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch, setBaseOffset, setPartitionLeaderEpoch } from '../../core/index.ts';
import { ApiKeys } from '../../plugins/kafka/codec/index.ts';
import { describePartition, readPartition, replicaBytes, TestCluster, type BrokerProcess, type PartitionView } from '../helpers/cluster.ts';
import { eventually } from '../helpers/kafka.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';
import { hasProgram } from '../helpers/programs.ts';

/** Faults from the cluster reference's list, against three broker processes and a real etcd. */
const enabled = hasProgram('etcd', 'the cluster fault tests');
const LEASE_MS = 2000;
let cluster: TestCluster;

beforeAll(async () => {
  if (!enabled) return;
  cluster = await TestCluster.start({ nodes: 3, leaseTtlMs: LEASE_MS, flags: ['--replication-lag-max-ms', '5000'] });
}, 120_000);

afterAll(async () => {
  if (!enabled) return;
  await cluster?.remove();
});

/** An admin client of the brokers running now (a client bootstrapped with a dead broker fails to connect). */
async function withAdmin<T>(use: (admin: Admin) => Promise<T>, via: Kafka = cluster.client()): Promise<T> {
  const admin = via.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

afterEach(async (context) => {
  if (!enabled) return;
  if (context.task.result?.state === 'fail') console.error(cluster.logTail(30));
  for (const broker of cluster.brokers) broker.resume();
  if (!(await cluster.etcd.healthy())) await cluster.etcd.restart();
  await restoreAll();
}, 60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The partition as `via` (default: the first running broker) describes it. */
function partitionInfo(topic: string, partition = 0, via: BrokerProcess = cluster.brokers.find((b) => b.running)!): Promise<PartitionView> {
  return describePartition(via.bootstrap, topic, partition);
}

async function createTopic(topic: string, minIsr = 2): Promise<void> {
  await withAdmin((admin) => admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: String(minIsr) }] }] }));
  await eventually(async () => (await partitionInfo(topic)).isr.length === 3, 20_000, `${topic} fully in sync`);
}

async function restoreAll(): Promise<void> {
  for (const broker of cluster.brokers) if (!broker.running) await broker.start();
}

async function produceValues(topic: string, values: string[], acks = -1): Promise<void> {
  const producer = cluster.client().producer({ idempotent: acks === -1, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < values.length; i += 100) await producer.send({ topic, acks, messages: values.slice(i, i + 100).map((value) => ({ value })) });
  await producer.disconnect();
}

/** Every value in the partition, read from its leader up to the high watermark. */
function readAll(topic: string, bootstrap: readonly string[] = cluster.bootstrap): Promise<string[]> {
  return readPartition(bootstrap, topic);
}

const produceRequest = (topic: string, batch: Buffer, acks: number) => ({
  transactionalId: null,
  acks,
  timeoutMs: 5000,
  topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
});

describe.skipIf(!enabled)('cluster faults (etcd + 3 broker processes)', () => {
  it('refuses acks=all with NOT_ENOUGH_REPLICAS once the ISR shrinks below min.insync.replicas, while acks=1 still works', async () => {
    await createTopic('min-isr', 2);
    const { leader } = await partitionInfo('min-isr');
    const followers = cluster.brokers.filter((b) => b.nodeId !== leader);
    await Promise.all(followers.map((b) => b.kill()));
    const survivor = cluster.client({ brokers: [cluster.broker(leader).bootstrap] });
    await eventually(async () => (await partitionInfo('min-isr')).isr.length === 1, 20_000, 'the ISR down to the leader');
    const producer = survivor.producer({ retry: { retries: 0 } });
    await producer.connect();
    const refused = await producer.send({ topic: 'min-isr', acks: -1, messages: [{ value: 'all' }] }).then(
      () => 'stored',
      (err: { type?: string; cause?: { type?: string } }) => err.type ?? err.cause?.type,
    );
    expect(refused).toBe('NOT_ENOUGH_REPLICAS');
    const [stored] = await producer.send({ topic: 'min-isr', acks: 1, messages: [{ value: 'leader only' }] });
    expect(stored!.errorCode).toBe(0);
    await producer.disconnect();
    await restoreAll();
    await eventually(async () => (await partitionInfo('min-isr')).isr.length === 3, 30_000, 'the ISR whole again');
  }, 120_000);

  it('fences a leader paused past its lease: woken, it neither acknowledges a produce nor serves a fetch', async () => {
    await createTopic('paused');
    await produceValues('paused', ['before']);
    const { leader } = await partitionInfo('paused');
    const zombie = cluster.broker(leader);
    const wire = await KafkaWire.connect(zombie.kafkaPort);
    await wire.request(ApiKeys.ApiVersions, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    zombie.pause();
    try {
      const other = cluster.brokers.find((b) => b !== zombie)!;
      await eventually(async () => (await partitionInfo('paused', 0, other)).leader !== leader, 30_000, 'a new leader while the old one sleeps');
      // Written while the old leader sleeps: the first thing it reads when it wakes, before any keepalive answer.
      wire.send(encodeProduce(wire, 'paused', encodeRecordBatch({ records: [{ value: Buffer.from('zombie write') }] })));
      wire.send(encodeFetch(wire, 'paused'));
    } finally {
      zombie.resume();
    }
    const produced = await wire.response(ApiKeys.Produce, 7);
    const fetched = await wire.response(ApiKeys.Fetch, 11);
    wire.close();
    expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(6);
    expect(fetched.responses[0]!.partitions[0]!.errorCode).toBe(6);
    await produceValues('paused', ['after']);
    expect(await readAll('paused')).toEqual(['before', 'after']);
    await eventually(async () => (await partitionInfo('paused')).isr.length === 3, 30_000, 'the woken broker back in the ISR');
  }, 120_000);

  it('truncates a restarted leader\'s unreplicated tail to the new leader\'s epoch boundary and converges byte for byte', async () => {
    await createTopic('diverge', 1);
    await produceValues('diverge', Array.from({ length: 10 }, (_, i) => `committed-${i}`));
    const { leader } = await partitionInfo('diverge');
    const old = cluster.broker(leader);
    await old.kill();
    // What a leader that appended but crashed before any follower fetched leaves on disk: batches of its epoch past the others' end.
    appendUnreplicated(old, 'diverge', 10, ['ghost-0', 'ghost-1', 'ghost-2']);
    await eventually(async () => (await partitionInfo('diverge')).leader !== leader, 20_000, 'a new leader');
    await produceValues('diverge', ['new-0', 'new-1', 'new-2', 'new-3']);
    await old.start();
    await eventually(async () => (await partitionInfo('diverge')).isr.length === 3, 30_000, 'the old leader back in sync');
    await eventually(() => cluster.brokers.every((b) => replicaBytes(b, 'diverge', 0).equals(replicaBytes(cluster.brokers[0]!, 'diverge', 0))), 20_000, 'identical replicas');
    expect(replicaBytes(old, 'diverge', 0).includes('ghost')).toBe(false);
    expect(await readAll('diverge')).toEqual([...Array.from({ length: 10 }, (_, i) => `committed-${i}`), 'new-0', 'new-1', 'new-2', 'new-3']);
  }, 120_000);

  it('lets a restarted follower rejoin the ISR only once caught up: it can then be the only survivor without losing a record', async () => {
    await createTopic('catch-up', 1);
    const { leader } = await partitionInfo('catch-up');
    const [late, other] = cluster.brokers.filter((b) => b.nodeId !== leader);
    await late!.kill();
    const values = Array.from({ length: 20_000 }, (_, i) => `v${i}-${'x'.repeat(200)}`);
    await produceValues('catch-up', values);
    await late!.start();
    await eventually(async () => (await partitionInfo('catch-up')).isr.includes(late!.nodeId), 60_000, 'the late follower in the ISR');
    await Promise.all([cluster.broker(leader).kill(), other!.kill()]);
    await eventually(async () => (await partitionInfo('catch-up', 0, late)).leader === late!.nodeId, 30_000, 'the caught-up follower leading alone');
    expect(await readAll('catch-up', [late!.bootstrap])).toEqual(values);
    await restoreAll();
  }, 180_000);

  it('survives etcd being killed and restarted: brokers stop leading while it is gone, no split brain, service resumes', async () => {
    await createTopic('etcd-down');
    await produceValues('etcd-down', ['a']);
    await cluster.etcd.kill();
    await sleep(LEASE_MS * 2);
    const quick = cluster.client({ retry: { retries: 0 } });
    const producer = quick.producer({ retry: { retries: 0 } });
    await producer.connect().catch(() => undefined);
    const during = await producer.send({ topic: 'etcd-down', acks: 1, messages: [{ value: 'during' }] }).then(
      () => 'stored',
      () => 'refused',
    );
    await producer.disconnect().catch(() => undefined);
    expect(during).toBe('refused');
    await cluster.etcd.restart();
    await produceValues('etcd-down', ['b']);
    const views = await Promise.all(
      cluster.brokers.map(async (b) => {
        return (await partitionInfo('etcd-down', 0, b)).leader;
      }),
    );
    expect(new Set(views).size).toBe(1);
    expect(await readAll('etcd-down')).toEqual(['a', 'b']);
  }, 120_000);

  it('hands leadership over on SIGTERM: producers carry on after a short retry and lose nothing', async () => {
    await createTopic('handover');
    const { leader } = await partitionInfo('handover');
    const producer = cluster.client().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acked: string[] = [];
    let stopped = false;
    let longest = 0;
    const load = (async () => {
      for (let i = 0; !stopped; i++) {
        const started = Date.now();
        await producer.send({ topic: 'handover', acks: -1, messages: [{ value: `h${i}` }] });
        longest = Math.max(longest, Date.now() - started);
        acked.push(`h${i}`);
      }
    })();
    await eventually(() => acked.length >= 50, 20_000, 'produces before the shutdown');
    await cluster.broker(leader).stop();
    const atStop = acked.length;
    await eventually(() => acked.length >= atStop + 50, 20_000, 'produces after the shutdown');
    stopped = true;
    await load;
    await producer.disconnect();
    expect(longest).toBeLessThan(LEASE_MS);
    expect(await readAll('handover')).toEqual(acked);
    await restoreAll();
  }, 120_000);

  it('refuses garbage, a marker write before the hello, a wrong cluster and a stale broker epoch on the replication listener, and keeps serving', async () => {
    const target = cluster.brokers[0]!;
    const garbage = await rawExchange(target.replicationPort, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(garbage.closed).toBe(true);
    const { encodeHello, encodeMarkersRequest } = await import('../../core/replication/replication-protocol.ts');
    // Transaction markers are written only for a peer admitted by its hello (a live member of this cluster).
    const markers = await rawExchange(target.replicationPort, Buffer.concat(encodeMarkersRequest(1, { producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, commit: true, partitions: [{ topic: 'still-serving', partition: 0 }] })));
    expect(markers).toEqual({ data: Buffer.alloc(0), closed: true });
    const wrongCluster = await rawExchange(target.replicationPort, Buffer.concat(encodeHello(1, { version: 1, clusterId: 'not-this-one', nodeId: 2, brokerEpoch: 1 })));
    expect(wrongCluster.closed).toBe(true);
    expect(wrongCluster.data.toString('latin1')).toContain('not this cluster');
    const staleEpoch = await rawExchange(target.replicationPort, Buffer.concat(encodeHello(1, { version: 1, clusterId: await clusterId(), nodeId: 2, brokerEpoch: 1 })));
    expect(staleEpoch.data.toString('latin1')).toContain('is not its current');
    await createTopic('still-serving');
    await produceValues('still-serving', ['ok']);
    expect(await readAll('still-serving')).toEqual(['ok']);
  }, 60_000);
});

/** Kafka's cluster id as Metadata reports it (the replication hello carries the same). */
async function clusterId(): Promise<string> {
  return withAdmin(async (admin) => (await admin.describeCluster()).clusterId);
}

function rawExchange(port: number, bytes: Buffer): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closed: false });
    }, 3000);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closed: true });
    });
    socket.on('error', () => undefined);
  });
}

function encodeProduce(wire: KafkaWire, topic: string, batch: Buffer): Buffer[] {
  return wire.encode(ApiKeys.Produce, 7, produceRequest(topic, batch, 1));
}

function encodeFetch(wire: KafkaWire, topic: string): Buffer[] {
  return wire.encode(ApiKeys.Fetch, 11, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1024 * 1024 }] }],
    forgottenTopicsData: [],
    rackId: '',
  } as never);
}

/** Appends batches of the replica's current leader epoch at `baseOffset` to its newest segment file, as a crashed leader leaves them. */
function appendUnreplicated(broker: BrokerProcess, topic: string, baseOffset: number, values: string[]): void {
  const dir = path.join(broker.dataDir, `${topic}-0`);
  const segment = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort().pop()!;
  const existing = fs.readFileSync(path.join(dir, segment));
  const epoch = existing.readInt32BE(existing.length - lastBatchLength(existing) + 12);
  const batches = values.map((value, i) => {
    const batch = encodeRecordBatch({ records: [{ value: Buffer.from(value) }] });
    setBaseOffset(batch, 0, baseOffset + i);
    setPartitionLeaderEpoch(batch, 0, epoch);
    return batch;
  });
  fs.appendFileSync(path.join(dir, segment), Buffer.concat(batches));
}

function lastBatchLength(segment: Buffer): number {
  let pos = 0;
  let last = 0;
  while (pos + 12 <= segment.length) {
    last = 12 + segment.readInt32BE(pos + 8);
    if (pos + last > segment.length) break;
    pos += last;
  }
  return last;
}
