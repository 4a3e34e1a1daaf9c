import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { createBroker, encodeRecordBatch, MemoryCoordinationStore, TOKENS, type Broker, type Cluster, type TopicRegistry, type TxnMarkerChannel } from '../../core/index.ts';
import { memoryCoordination } from '../../core/testing/index.ts';
import { ApiKeys, defaultFetchRequest, defaultFetchRequestFetchPartition, defaultFetchRequestFetchTopic, defaultMetadataRequest } from '../../plugins/kafka/codec/index.ts';
import { KafkaError } from '../../plugins/kafka/error-codes.ts';
import { kafka } from '../../plugins/kafka/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';
import { eventually } from '../helpers/kafka.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';

/** Three Kafka brokers in one process over an in-memory coordination store, driven by kafkajs. */
let brokers: Broker[] = [];
afterEach(async () => {
  await Promise.all(brokers.map((b) => b.stop().catch(() => undefined)));
  brokers = [];
});

async function startCluster(ids: number[], replication: Record<string, unknown> = {}, store = new MemoryCoordinationStore()): Promise<Broker[]> {
  for (const nodeId of ids) {
    const broker = await createBroker({
      plugins: [memoryStorage(), memoryCoordination(store, 1000), kafka()],
      config: {
        nodeId,
        host: '127.0.0.1',
        logLevel: process.env.WHARF_TEST_LOG ?? 'warn',
        replication: { port: 'auto', fetchMaxWaitMs: 200, lagMaxMs: 2000, offsetsPartitions: 4, ...replication },
        topics: { flush: 'never' },
        kafka: { port: 'auto', transactionLogPartitions: 4 },
        groups: { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 1000 },
      },
    });
    await broker.start();
    brokers.push(broker);
  }
  return brokers;
}

const kafkaPort = (b: Broker): number => b.listeners().find((l) => l.protocol === 'kafka')!.port;

/** FindCoordinator (v3) asked until it names a broker: key type 0 a group, 1 a transactional id. */
async function findCoordinator(wire: KafkaWire, key: string, keyType: number): Promise<number> {
  let nodeId = -1;
  await eventually(async () => {
    const found = await wire.request(ApiKeys.FindCoordinator, 3, { key, keyType, coordinatorKeys: [] });
    nodeId = found.errorCode === KafkaError.NONE ? found.nodeId : -1;
    return nodeId >= 0;
  }, 10_000, `a coordinator for ${key}`);
  return nodeId;
}

/** InitProducerId (v4) for a transactional id, asked again while the answer is retriable. */
async function initProducer(wire: KafkaWire, transactionalId: string): Promise<{ errorCode: number; producerId: number; producerEpoch: number }> {
  const ask = () => wire.request(ApiKeys.InitProducerId, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
  let answer = await ask();
  const retriable: number[] = [KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.NOT_COORDINATOR, KafkaError.CONCURRENT_TRANSACTIONS];
  await eventually(async () => !retriable.includes(answer.errorCode) || ((answer = await ask()), false), 10_000, 'InitProducerId answered');
  return answer;
}

/** TxnOffsetCommit (v3) of one offset of partition 0 of `topic`; the partition's error code. */
async function txnOffsetCommit(wire: KafkaWire, txn: { transactionalId: string; groupId: string; producerId: number; producerEpoch: number }, topic: string, offset: number): Promise<number> {
  const answer = await wire.request(ApiKeys.TxnOffsetCommit, 3, {
    ...txn, generationId: -1, memberId: '', groupInstanceId: null,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }] }],
  });
  return answer.topics[0]!.partitions[0]!.errorCode;
}

const nodeIdOf = (b: Broker): number => b.get<Cluster>(TOKENS.Cluster).nodeId;

/**
 * Three brokers with a topic on all of them, a raw connection to each, and a transactional id (`prefix`-n)
 * whose coordinator does not lead the topic's partitions led by `dataLeader` (the broker leading the most).
 */
async function transactionAcrossBrokers(topic: string, prefix: string, numPartitions = 1) {
  const cluster = await startCluster([1, 2, 3]);
  const admin = new Kafka({ clientId: `${prefix}-admin`, brokers: cluster.map((b) => `127.0.0.1:${kafkaPort(b)}`), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 3 }], waitForLeaders: true });
  const leaders = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.sort((a, b) => a.partitionId - b.partitionId).map((p) => p.leader);
  const count = (nodeId: number) => leaders.filter((l) => l === nodeId).length;
  const dataLeader = [...leaders].sort((a, b) => count(b) - count(a))[0]!;
  await admin.disconnect();
  const brokerOf = (nodeId: number) => cluster.find((b) => nodeIdOf(b) === nodeId)!;
  const wires = new Map(await Promise.all(cluster.map(async (b) => [nodeIdOf(b), await KafkaWire.connect(kafkaPort(b))] as const)));
  let id = '';
  let coordinator = -1;
  for (let i = 0; coordinator < 0 || coordinator === dataLeader; i++) coordinator = await findCoordinator(wires.get(dataLeader)!, (id = `${prefix}-${i}`), 1);
  return { cluster, leaders, dataLeader, brokerOf, wires, id, coordinator };
}

describe('Kafka across a cluster in one process', () => {
  it('serves metadata from every broker, replicates acks=all produces, and moves a group to the new coordinator after a leader leaves', async () => {
    const cluster = await startCluster([1, 2, 3]);
    const client = new Kafka({ clientId: 'cluster-test', brokers: cluster.map((b) => `127.0.0.1:${kafkaPort(b)}`), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'events', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    const metadata = await admin.fetchTopicMetadata({ topics: ['events'] });
    const leaders = metadata.topics[0]!.partitions.map((p) => p.leader).sort();
    expect(leaders).toEqual([1, 2, 3]);
    for (const p of metadata.topics[0]!.partitions) expect(p.isr.sort()).toEqual([1, 2, 3]);

    const producer = client.producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < 30; i++) await producer.send({ topic: 'events', acks: -1, messages: [{ key: `k${i}`, value: `v${i}` }] });

    const consumer = client.consumer({ groupId: 'readers', sessionTimeout: 6000, heartbeatInterval: 500 });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'events', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await eventually(() => seen.length === 30, 20_000, '30 messages consumed');

    const victim = cluster.find((b) => b.get<Cluster>(TOKENS.Cluster).nodeId === 1)!;
    await victim.stop();
    for (let i = 30; i < 60; i++) await producer.send({ topic: 'events', acks: -1, messages: [{ key: `k${i}`, value: `v${i}` }] });
    // At least once: a group that moves re-reads from its last commit, so some values may come twice.
    await eventually(() => new Set(seen).size === 60, 30_000, 'all 60 messages consumed after broker 1 left');
    const after = await admin.fetchTopicMetadata({ topics: ['events'] });
    for (const p of after.topics[0]!.partitions) {
      expect(p.leader).not.toBe(1);
      expect(p.isr).not.toContain(1);
    }
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  });

  it('describes the cluster from any broker; DeleteRecords on the leader moves every replica\'s log start; topic config changes reach every broker', async () => {
    const cluster = await startCluster([1, 2, 3]);
    const wires = await Promise.all(cluster.map((b) => KafkaWire.connect(kafkaPort(b))));
    const controller = cluster[0]!.get<Cluster>(TOKENS.Cluster).controllerId();
    for (const wire of wires) {
      const described = await wire.request(ApiKeys.DescribeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      expect(described.brokers.map((b) => [b.brokerId, b.port])).toEqual(cluster.map((b, i) => [i + 1, kafkaPort(b)]));
      expect(described.controllerId).toBe(controller);
    }

    const client = new Kafka({ clientId: 'cluster-admin', brokers: cluster.map((b) => `127.0.0.1:${kafkaPort(b)}`), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'trimmed', numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'trimmed', acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })) });
    await producer.disconnect();
    const leader = (await admin.fetchTopicMetadata({ topics: ['trimmed'] })).topics[0]!.partitions[0]!.leader;
    const trim = (wire: KafkaWire) => wire.request(ApiKeys.DeleteRecords, 2, { timeoutMs: 5000, topics: [{ name: 'trimmed', partitions: [{ partitionIndex: 0, offset: 4 }] }] }).then((r) => r.topics[0]!.partitions[0]!);
    expect(await trim(wires[leader % 3]!)).toMatchObject({ errorCode: 6, lowWatermark: -1 });
    expect(await trim(wires[leader - 1]!)).toMatchObject({ errorCode: 0, lowWatermark: 4 });
    const logStarts = () => cluster.map((b) => b.get<TopicRegistry>(TOKENS.TopicRegistry).log('trimmed', 0)!.logStartOffset);
    await eventually(() => logStarts().every((o) => o === 4), 10_000, 'every replica starting at 4');

    const alter = await wires[2]!.request(ApiKeys.IncrementalAlterConfigs, 1, { validateOnly: false, resources: [{ resourceType: 2, resourceName: 'trimmed', configs: [{ name: 'retention.ms', configOperation: 0, value: '90000' }] }] });
    expect(alter.responses[0]!.errorCode).toBe(0);
    await eventually(async () => {
      const described = await wires[0]!.request(ApiKeys.DescribeConfigs, 1, { includeSynonyms: false, includeDocumentation: false, resources: [{ resourceType: 2, resourceName: 'trimmed', configurationKeys: ['retention.ms'] }] });
      return described.results[0]!.configs[0]?.value === '90000';
    }, 10_000, 'the new retention.ms on broker 1');
    for (const wire of wires) {
      const dirs = await wire.request(ApiKeys.DescribeLogDirs, 4, { topics: [{ topic: 'trimmed', partitions: [0] }] });
      expect(dirs.results[0]!.topics).toEqual([{ name: 'trimmed', partitions: [expect.objectContaining({ partitionIndex: 0, offsetLag: 0 })] }]);
      wire.close();
    }
    await admin.disconnect();
  });

  it('shares client quotas across the cluster: set on one broker, described by every broker, enforced by a broker that did not store them', async () => {
    const cluster = await startCluster([1, 2, 3]);
    const wires = await Promise.all(cluster.map((b) => KafkaWire.connect(kafkaPort(b))));
    try {
      const entity = [{ entityType: 'client-id', entityName: 'wire-test' }];
      const altered = await wires[0]!.request(ApiKeys.AlterClientQuotas, 1, { validateOnly: false, entries: [{ entity, ops: [{ key: 'producer_byte_rate', value: 100_000, remove: false }] }] });
      expect(altered.entries[0]!.errorCode).toBe(0);
      const describe = (wire: KafkaWire) => wire.request(ApiKeys.DescribeClientQuotas, 1, { strict: false, components: [{ entityType: 'client-id', matchType: 0, match: 'wire-test' }] });
      for (const wire of wires) await eventually(async () => (await describe(wire)).entries?.[0]?.values[0]?.value === 100_000, 5000, 'the quota on every broker');

      const create = await wires[0]!.request(ApiKeys.CreateTopics, 4, { timeoutMs: 5000, validateOnly: false, topics: [{ name: 'quoted', numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] }] });
      expect(create.topics[0]!.errorCode).toBe(0);
      const partitionLeader = async () => (await wires[0]!.request(ApiKeys.Metadata, 9, { ...defaultMetadataRequest(), topics: [{ name: 'quoted', topicId: Buffer.alloc(16) }] })).topics[0]!.partitions[0]?.leaderId ?? -1;
      await eventually(async () => (await partitionLeader()) > 0, 10_000, 'a leader for the topic');
      const leader = wires[(await partitionLeader()) - 1]!;
      const produce = { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'quoted', partitionData: [{ index: 0, records: encodeRecordBatch({ records: [{ value: Buffer.alloc(100_000, 1) }] }) }] }] };
      // Kafka's window counts at least 10 one-second samples: about 1 MB goes through before the throttle.
      const throttles: number[] = [];
      for (let i = 0; i < 12; i++) throttles.push((await leader.request(ApiKeys.Produce, 9, produce)).throttleTimeMs);
      expect(throttles.slice(0, 9)).toEqual(Array(9).fill(0));
      expect(throttles[11]).toBeGreaterThan(0);

      const removed = await wires[2]!.request(ApiKeys.AlterClientQuotas, 1, { validateOnly: false, entries: [{ entity, ops: [{ key: 'producer_byte_rate', value: 0, remove: true }] }] });
      expect(removed.entries[0]!.errorCode).toBe(0);
      for (const wire of wires) await eventually(async () => (await describe(wire)).entries?.length === 0, 5000, 'the quota gone from every broker');
    } finally {
      for (const wire of wires) wire.close();
    }
  });

  it('answers ElectLeaders from the partition state: not needed while preferred replicas lead, done once the controller moves a leadership back to its preferred replica', async () => {
    const store = new MemoryCoordinationStore();
    const cluster = await startCluster([1, 2, 3], { leaderRebalanceIntervalMs: 3000 }, store);
    const client = new Kafka({ clientId: 'elect-test', brokers: cluster.map((b) => `127.0.0.1:${kafkaPort(b)}`), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'elect', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    const survivor = cluster.find((b) => b.get<Cluster>(TOKENS.Cluster).nodeId === 3)!;
    const wire = await KafkaWire.connect(kafkaPort(survivor));
    const elect = async (timeoutMs: number) => {
      const response = await wire.request(ApiKeys.ElectLeaders, 2, { electionType: 0, timeoutMs, topicPartitions: [{ topic: 'elect', partitions: [0, 1, 2] }] });
      return response.replicaElectionResults[0]!.partitionResult.map((p) => p.errorCode);
    };
    expect(await elect(1000)).toEqual([KafkaError.ELECTION_NOT_NEEDED, KafkaError.ELECTION_NOT_NEEDED, KafkaError.ELECTION_NOT_NEEDED]);
    // Broker 1 leaves: the partition it preferred is led by another replica; when it is back in sync the controller moves it home.
    const state = (p: number) => survivor.get<Cluster>(TOKENS.Cluster).partitionState('elect', p)!;
    const preferredBy1 = [0, 1, 2].find((p) => state(p).replicas[0] === 1)!;
    await cluster.find((b) => b.get<Cluster>(TOKENS.Cluster).nodeId === 1)!.stop();
    await eventually(() => state(preferredBy1).leader !== 1 && state(preferredBy1).leader >= 0, 20_000, 'a new leader');
    const outOfSync = await elect(100);
    expect(outOfSync[preferredBy1]).toBe(KafkaError.PREFERRED_LEADER_NOT_AVAILABLE);
    await startCluster([1], { leaderRebalanceIntervalMs: 3000 }, store);
    await eventually(() => state(preferredBy1).isr.some(([id]) => id === 1), 20_000, 'broker 1 back in the ISR');
    const results = await elect(20_000);
    // The request waited for the controller's next rebalance (every 3 s) to move the leadership.
    expect(results[preferredBy1]).toBe(KafkaError.NONE);
    expect(state(preferredBy1).leader).toBe(1);
    wire.close();
    await admin.disconnect();
  });

  it('tells a Produce v10+ / Fetch v16+ client sent to a follower who leads the partition and where (KIP-951)', async () => {
    const cluster = await startCluster([1, 2, 3]);
    const client = new Kafka({ clientId: 'hint-test', brokers: cluster.map((b) => `127.0.0.1:${kafkaPort(b)}`), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'hints', numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const state = cluster[0]!.get<Cluster>(TOKENS.Cluster).partitionState('hints', 0)!;
    const follower = cluster.find((b) => b.get<Cluster>(TOKENS.Cluster).nodeId !== state.leader)!;
    const leader = cluster.find((b) => b.get<Cluster>(TOKENS.Cluster).nodeId === state.leader)!;
    const wire = await KafkaWire.connect(kafkaPort(follower));
    const batch = encodeRecordBatch({ records: [{ value: Buffer.from('x') }] });
    const produced = await wire.request(ApiKeys.Produce, 11, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'hints', partitionData: [{ index: 0, records: batch }] }] });
    expect(produced.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: KafkaError.NOT_LEADER_OR_FOLLOWER, currentLeader: { leaderId: state.leader, leaderEpoch: state.leaderEpoch } });
    expect(produced.nodeEndpoints).toEqual([{ nodeId: state.leader, host: '127.0.0.1', port: kafkaPort(leader), rack: null }]);
    const older = await wire.request(ApiKeys.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'hints', partitionData: [{ index: 0, records: batch }] }] });
    expect(older.responses[0]!.partitionResponses[0]!.currentLeader).toBeNull();
    const fetched = await wire.request(ApiKeys.Fetch, 12, {
      ...defaultFetchRequest(),
      maxWaitMs: 0,
      sessionEpoch: -1,
      topics: [{ ...defaultFetchRequestFetchTopic(), topic: 'hints', partitions: [{ ...defaultFetchRequestFetchPartition(), partition: 0, partitionMaxBytes: 1024 }] }],
    });
    expect(fetched.responses[0]!.partitions[0]!.currentLeader).toBeNull();
    const id = (await wire.request(ApiKeys.Metadata, 12, { ...defaultMetadataRequest(), topics: [{ name: 'hints', topicId: Buffer.alloc(16) }] })).topics[0]!.topicId;
    const hinted = await wire.request(ApiKeys.Fetch, 17, {
      ...defaultFetchRequest(),
      maxWaitMs: 0,
      sessionEpoch: -1,
      topics: [{ ...defaultFetchRequestFetchTopic(), topicId: id, partitions: [{ ...defaultFetchRequestFetchPartition(), partition: 0, partitionMaxBytes: 1024 }] }],
    });
    expect(hinted.responses[0]!.partitions[0]).toMatchObject({ errorCode: KafkaError.NOT_LEADER_OR_FOLLOWER, currentLeader: { leaderId: state.leader, leaderEpoch: state.leaderEpoch } });
    expect(hinted.nodeEndpoints.map((n) => n.nodeId)).toEqual([state.leader]);
    wire.close();
  });

  it('answers OffsetForLeaderEpoch on the leader from its epoch history after a leader change; a follower and a stale epoch are refused', async () => {
    const cluster = await startCluster([1, 2, 3]);
    const client = new Kafka({ clientId: 'epoch-test', brokers: cluster.map((b) => `127.0.0.1:${kafkaPort(b)}`), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100 } });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'epochs', numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'epochs', acks: -1, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    const stateOf = (b: Broker) => b.get<Cluster>(TOKENS.Cluster).partitionState('epochs', 0)!;
    const first = stateOf(cluster[0]!);
    const old = cluster.find((b) => b.get<Cluster>(TOKENS.Cluster).nodeId === first.leader)!;
    await old.stop();
    const rest = cluster.filter((b) => b !== old);
    await eventually(() => stateOf(rest[0]!).leader > 0 && stateOf(rest[0]!).leader !== first.leader, 20_000, 'a new leader');
    await producer.send({ topic: 'epochs', acks: -1, messages: [{ value: 'd' }, { value: 'e' }] });
    await producer.disconnect();
    const now = stateOf(rest[0]!);
    const leader = rest.find((b) => b.get<Cluster>(TOKENS.Cluster).nodeId === now.leader)!;
    const follower = rest.find((b) => b !== leader)!;
    const ask = async (broker: Broker, currentLeaderEpoch: number, leaderEpoch: number) => {
      const wire = await KafkaWire.connect(kafkaPort(broker));
      try {
        return (await wire.request(ApiKeys.OffsetForLeaderEpoch, 4, { replicaId: -1, topics: [{ topic: 'epochs', partitions: [{ partition: 0, currentLeaderEpoch, leaderEpoch }] }] })).topics[0]!.partitions[0]!;
      } finally {
        wire.close();
      }
    };
    expect(await ask(leader, now.leaderEpoch, first.leaderEpoch)).toMatchObject({ errorCode: KafkaError.NONE, leaderEpoch: first.leaderEpoch, endOffset: 3 });
    expect(await ask(leader, now.leaderEpoch, now.leaderEpoch)).toMatchObject({ errorCode: KafkaError.NONE, leaderEpoch: now.leaderEpoch, endOffset: 5 });
    expect(await ask(leader, -1, now.leaderEpoch + 1)).toMatchObject({ errorCode: KafkaError.NONE, leaderEpoch: -1, endOffset: -1 });
    expect((await ask(leader, first.leaderEpoch, first.leaderEpoch)).errorCode).toBe(KafkaError.FENCED_LEADER_EPOCH);
    expect((await ask(follower, -1, first.leaderEpoch)).errorCode).toBe(KafkaError.NOT_LEADER_OR_FOLLOWER);

    // Fetch v12+ checks last_fetched_epoch the same way (KIP-595): a client whose log goes on in an epoch past
    // where the leader ended it is told the diverging epoch instead of records.
    const wire = await KafkaWire.connect(kafkaPort(leader));
    try {
      const fetch = async (fetchOffset: number, lastFetchedEpoch: number) =>
        (
          await wire.request(ApiKeys.Fetch, 12, {
            ...defaultFetchRequest(),
            maxWaitMs: 0,
            sessionEpoch: -1,
            topics: [{ ...defaultFetchRequestFetchTopic(), topic: 'epochs', partitions: [{ ...defaultFetchRequestFetchPartition(), partition: 0, fetchOffset, lastFetchedEpoch, partitionMaxBytes: 1 << 16 }] }],
          })
        ).responses[0]!.partitions[0]!;
      const diverged = await fetch(5, first.leaderEpoch);
      expect(diverged).toMatchObject({ errorCode: KafkaError.NONE, divergingEpoch: { epoch: first.leaderEpoch, endOffset: 3 } });
      expect((diverged.records as Buffer).length).toBe(0);
      const agreeing = await fetch(3, first.leaderEpoch);
      // No divergence: the tagged field is left out (null once decoded).
      expect(agreeing).toMatchObject({ errorCode: KafkaError.NONE, divergingEpoch: null });
      expect((agreeing.records as Buffer).length).toBeGreaterThan(0);
      expect(await fetch(5, now.leaderEpoch)).toMatchObject({ errorCode: KafkaError.NONE, divergingEpoch: null });
      expect((await fetch(3, now.leaderEpoch + 1)).errorCode).toBe(KafkaError.OFFSET_OUT_OF_RANGE);
    } finally {
      wire.close();
    }
  });

  it('runs kafkajs transactions with the coordinator on another broker than the data leader: a commit is read by read_committed, an abort never; offsets sent in a transaction reach the group on commit only', async () => {
    const cluster = await startCluster([1, 2, 3]);
    const client = new Kafka({ clientId: 'cluster-txn', brokers: cluster.map((b) => `127.0.0.1:${kafkaPort(b)}`), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'txn-data', numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    const dataLeader = (await admin.fetchTopicMetadata({ topics: ['txn-data'] })).topics[0]!.partitions[0]!.leader;

    // Kafka's placement: the leader of the id's __transaction_state partition; pick an id whose coordinator does not lead the data.
    const wire = await KafkaWire.connect(kafkaPort(cluster[0]!));
    const coordinatorOf = (key: string, keyType: number): Promise<number> => findCoordinator(wire, key, keyType);
    let transactionalId = '';
    let coordinator = -1;
    for (let i = 0; coordinator < 0 || coordinator === dataLeader; i++) {
      transactionalId = `txn-${i}`;
      coordinator = await coordinatorOf(transactionalId, 1);
    }
    let group = '';
    for (let i = 0; group === '' || (await coordinatorOf(group, 0)) === coordinator; i++) group = `txn-group-${i}`;
    wire.close();

    const producer = client.producer({ transactionalId, maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    const run = async (values: string[], offset: string, commit: boolean): Promise<void> => {
      const txn = await producer.transaction();
      await txn.send({ topic: 'txn-data', acks: -1, messages: values.map((value) => ({ value })) });
      await txn.sendOffsets({ consumerGroupId: group, topics: [{ topic: 'txn-data', partitions: [{ partition: 0, offset }] }] });
      await (commit ? txn.commit() : txn.abort());
    };
    await run(['c0', 'c1', 'c2'], '3', true);
    await run(['a0', 'a1'], '99', false);
    await run(['c3'], '6', true);
    await producer.disconnect();

    const read = async (readUncommitted: boolean, expected: number): Promise<string[]> => {
      const consumer = client.consumer({ groupId: `reader-${readUncommitted}`, readUncommitted, sessionTimeout: 6000, heartbeatInterval: 500 });
      const seen: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic: 'txn-data', fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
      await eventually(() => seen.length >= expected, 20_000, `${expected} records read`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await consumer.disconnect();
      return seen;
    };
    expect(await read(false, 4)).toEqual(['c0', 'c1', 'c2', 'c3']);
    // The aborted records were written: only their abort marker keeps read_committed from them.
    expect(await read(true, 6)).toEqual(['c0', 'c1', 'c2', 'a0', 'a1', 'c3']);
    const offsets = await admin.fetchOffsets({ groupId: group, topics: ['txn-data'] });
    expect(offsets[0]!.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '6' })]);
    await admin.disconnect();
  });

  it('verifies a transactional Produce with the coordinator on another broker (KIP-890): refused before AddPartitionsToTxn (INVALID_TXN_STATE, TRANSACTION_ABORTABLE from Produce v11), accepted after it with one verification per transaction, asked again after the marker', async () => {
    const { dataLeader, brokerOf, wires, id, coordinator } = await transactionAcrossBrokers('verify-data', 'verify');
    const producer = await initProducer(wires.get(coordinator)!, id);
    expect(producer.errorCode).toBe(KafkaError.NONE);

    // Count the questions the coordinator's broker answers for peers.
    const channel = brokerOf(coordinator).get<TxnMarkerChannel>(TOKENS.TxnMarkers);
    const answer = channel.verifyHere.bind(channel);
    let asked = 0;
    channel.verifyHere = (request) => {
      asked++;
      return answer(request);
    };
    const leaderWire = wires.get(dataLeader)!;
    let sequence = 0;
    const produce = async (version: number, value: string): Promise<number> => {
      const records = encodeRecordBatch({ producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence: sequence, transactional: true, records: [{ value: Buffer.from(value) }] });
      const response = await leaderWire.request(ApiKeys.Produce, version, { transactionalId: id, acks: -1, timeoutMs: 5000, topicData: [{ name: 'verify-data', partitionData: [{ index: 0, records }] }] });
      const errorCode = response.responses[0]!.partitionResponses[0]!.errorCode;
      if (errorCode === KafkaError.NONE) sequence++;
      return errorCode;
    };
    const addPartition = async () => {
      const added = await wires.get(coordinator)!.request(ApiKeys.AddPartitionsToTxn, 3, {
        transactions: [], v3AndBelowTransactionalId: id, v3AndBelowProducerId: producer.producerId, v3AndBelowProducerEpoch: producer.producerEpoch,
        v3AndBelowTopics: [{ name: 'verify-data', partitions: [0] }],
      });
      return added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode;
    };
    const log = brokerOf(dataLeader).get<TopicRegistry>(TOKENS.TopicRegistry).log('verify-data', 0)!;

    // Not in the transaction: Kafka's coordinator answers TRANSACTION_ABORTABLE, which producers before v11 read as INVALID_TXN_STATE.
    expect(await produce(9, 'stray')).toBe(KafkaError.INVALID_TXN_STATE);
    expect(await produce(11, 'stray')).toBe(KafkaError.TRANSACTION_ABORTABLE);
    expect(asked).toBe(2);
    expect(log.logEndOffset).toBe(0);

    expect(await addPartition()).toBe(KafkaError.NONE);
    for (const value of ['t0', 't1', 't2']) expect(await produce(9, value)).toBe(KafkaError.NONE);
    // Only the first batch of the transaction in the partition asked the coordinator.
    expect(asked).toBe(3);
    expect(log.logEndOffset).toBe(3);

    // The commit's marker ends the transaction here: the next transaction's first batch is asked about again, and refused until added.
    expect((await wires.get(coordinator)!.request(ApiKeys.EndTxn, 3, { transactionalId: id, producerId: producer.producerId, producerEpoch: producer.producerEpoch, committed: true })).errorCode).toBe(KafkaError.NONE);
    await eventually(() => log.lastStableOffset === log.logEndOffset && log.logEndOffset === 4, 10_000, 'the commit marker written');
    expect(await produce(9, 'late')).toBe(KafkaError.INVALID_TXN_STATE);
    expect(asked).toBe(4);
    expect(await addPartition()).toBe(KafkaError.NONE);
    expect(await produce(9, 'next')).toBe(KafkaError.NONE);
    expect(asked).toBe(5);
    // WriteTxnMarkers (Admin.abortTransaction) is for the partition's leader: a follower refuses it and writes nothing.
    const follower = [1, 2, 3].find((n) => n !== dataLeader)!;
    const end = log.logEndOffset;
    const atFollower = await wires.get(follower)!.request(ApiKeys.WriteTxnMarkers, 1, {
      markers: [{ producerId: producer.producerId, producerEpoch: producer.producerEpoch, transactionResult: false, coordinatorEpoch: 0, topics: [{ name: 'verify-data', partitionIndexes: [0] }] }],
    });
    expect(atFollower.markers[0]!.topics[0]!.partitions[0]!.errorCode).toBe(KafkaError.NOT_LEADER_OR_FOLLOWER);
    expect(log.logEndOffset).toBe(end);
    for (const wire of wires.values()) wire.close();
  });

  it('asks the coordinator once for the first batches of one Produce request, whatever the number of partitions', async () => {
    const { leaders, dataLeader, brokerOf, wires, id, coordinator } = await transactionAcrossBrokers('batched-data', 'batched', 4);
    // Four partitions on three brokers: at least two share a leader.
    const partitions = leaders.flatMap((leader, partition) => (leader === dataLeader ? [partition] : []));
    expect(partitions.length).toBeGreaterThanOrEqual(2);
    const producer = await initProducer(wires.get(coordinator)!, id);
    const added = await wires.get(coordinator)!.request(ApiKeys.AddPartitionsToTxn, 3, {
      transactions: [], v3AndBelowTransactionalId: id, v3AndBelowProducerId: producer.producerId, v3AndBelowProducerEpoch: producer.producerEpoch,
      v3AndBelowTopics: [{ name: 'batched-data', partitions }],
    });
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition.map((p) => p.partitionErrorCode)).toEqual(partitions.map(() => KafkaError.NONE));
    const channel = brokerOf(coordinator).get<TxnMarkerChannel>(TOKENS.TxnMarkers);
    const answer = channel.verifyHere.bind(channel);
    const questions: number[] = [];
    channel.verifyHere = (request) => {
      questions.push(request.partitions.length);
      return answer(request);
    };
    const batch = (value: string) => encodeRecordBatch({ producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence: 0, transactional: true, records: [{ value: Buffer.from(value) }] });
    const produced = await wires.get(dataLeader)!.request(ApiKeys.Produce, 9, {
      transactionalId: id, acks: -1, timeoutMs: 5000,
      topicData: [{ name: 'batched-data', partitionData: partitions.map((index) => ({ index, records: batch(`p${index}`) })) }],
    });
    expect(produced.responses[0]!.partitionResponses.map((p) => p.errorCode)).toEqual(partitions.map(() => KafkaError.NONE));
    expect(questions).toEqual([partitions.length]);
    for (const wire of wires.values()) wire.close();
  });

  it('answers NOT_ENOUGH_REPLICAS (retriable) when the coordinator cannot answer the verification, and accepts the retry once it can', async () => {
    const { dataLeader, brokerOf, wires, id, coordinator } = await transactionAcrossBrokers('unverified-data', 'unverified');
    const producer = await initProducer(wires.get(coordinator)!, id);
    await wires.get(coordinator)!.request(ApiKeys.AddPartitionsToTxn, 3, {
      transactions: [], v3AndBelowTransactionalId: id, v3AndBelowProducerId: producer.producerId, v3AndBelowProducerEpoch: producer.producerEpoch,
      v3AndBelowTopics: [{ name: 'unverified-data', partitions: [0] }],
    });
    // The coordinator's broker fails the question: it closes the leader's connection, as on any failed replication request.
    const channel = brokerOf(coordinator).get<TxnMarkerChannel>(TOKENS.TxnMarkers);
    const answer = channel.verifyHere.bind(channel);
    channel.verifyHere = () => Promise.reject(new Error('the coordinator failed'));
    const records = encodeRecordBatch({ producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence: 0, transactional: true, records: [{ value: Buffer.from('retried') }] });
    const produce = async () => (await wires.get(dataLeader)!.request(ApiKeys.Produce, 9, { transactionalId: id, acks: -1, timeoutMs: 5000, topicData: [{ name: 'unverified-data', partitionData: [{ index: 0, records: Buffer.from(records) }] }] })).responses[0]!.partitionResponses[0]!;
    expect(await produce()).toMatchObject({ errorCode: KafkaError.NOT_ENOUGH_REPLICAS, errorMessage: 'Unable to verify the partition has been added to the transaction. Underlying error: NETWORK_EXCEPTION' });
    channel.verifyHere = answer;
    expect(await produce()).toMatchObject({ errorCode: KafkaError.NONE, baseOffset: 0 });
    for (const wire of wires.values()) wire.close();
  });

  it('refuses a first transactional batch whose verification was answered after a marker ended the transaction there (the race KIP-890 closes): no batch lands after the abort marker to hang', async () => {
    const { dataLeader, brokerOf, wires, id, coordinator } = await transactionAcrossBrokers('race-data', 'race');
    const producer = await initProducer(wires.get(coordinator)!, id);
    const added = await wires.get(coordinator)!.request(ApiKeys.AddPartitionsToTxn, 3, {
      transactions: [], v3AndBelowTransactionalId: id, v3AndBelowProducerId: producer.producerId, v3AndBelowProducerEpoch: producer.producerEpoch,
      v3AndBelowTopics: [{ name: 'race-data', partitions: [0] }],
    });
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(KafkaError.NONE);
    // The coordinator's answer is held back until the abort marker is in the partition.
    const channel = brokerOf(coordinator).get<TxnMarkerChannel>(TOKENS.TxnMarkers);
    const answer = channel.verifyHere.bind(channel);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let asked!: () => void;
    const askedOnce = new Promise<void>((resolve) => (asked = resolve));
    channel.verifyHere = async (request) => {
      asked();
      await released;
      return answer(request);
    };
    const records = encodeRecordBatch({ producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence: 0, transactional: true, records: [{ value: Buffer.from('late') }] });
    const produced = wires.get(dataLeader)!.request(ApiKeys.Produce, 9, { transactionalId: id, acks: -1, timeoutMs: 10_000, topicData: [{ name: 'race-data', partitionData: [{ index: 0, records }] }] });
    await askedOnce;
    // An admin's connection (the producer's answers its requests in order).
    const adminWire = await KafkaWire.connect(kafkaPort(brokerOf(dataLeader)));
    const aborted = await adminWire.request(ApiKeys.WriteTxnMarkers, 1, {
      markers: [{ producerId: producer.producerId, producerEpoch: producer.producerEpoch, transactionResult: false, coordinatorEpoch: 0, topics: [{ name: 'race-data', partitionIndexes: [0] }] }],
    });
    expect(aborted.markers[0]!.topics[0]!.partitions[0]!.errorCode).toBe(KafkaError.NONE);
    release();
    const response = (await produced).responses[0]!.partitionResponses[0]!;
    expect(response).toMatchObject({ errorCode: KafkaError.INVALID_TXN_STATE, errorMessage: 'Record was not part of an ongoing transaction' });
    const log = brokerOf(dataLeader).get<TopicRegistry>(TOKENS.TopicRegistry).log('race-data', 0)!;
    // Only the marker: nothing is open, so read_committed readers are not held.
    expect([log.logEndOffset, log.lastStableOffset]).toEqual([1, 1]);
    adminWire.close();
    for (const wire of wires.values()) wire.close();
  });

  it('keeps a transaction across a coordinator change: other brokers answer NOT_COORDINATOR; the successor aborts the open transaction under a bumped epoch of the same producer, which fences the old epoch at the coordinator and at the group coordinator', async () => {
    const cluster = await startCluster([1, 2, 3]);
    const admin = new Kafka({ clientId: 'fence-admin', brokers: cluster.map((b) => `127.0.0.1:${kafkaPort(b)}`), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'fenced-data', numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const wires = new Map(await Promise.all(cluster.map(async (b) => [nodeIdOf(b), await KafkaWire.connect(kafkaPort(b))] as const)));
    const id = 'fenced-across';
    const init = (wire: KafkaWire) => initProducer(wire, id);
    const first = await findCoordinator(wires.get(1)!, id, 1);
    const other = [1, 2, 3].find((n) => n !== first)!;
    expect((await wires.get(other)!.request(ApiKeys.InitProducerId, 4, { transactionalId: id, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 })).errorCode).toBe(KafkaError.NOT_COORDINATOR);
    const before = await init(wires.get(first)!);
    expect(before.errorCode).toBe(KafkaError.NONE);

    // An open transaction with offsets for a group coordinated by a broker that stays.
    let group = '';
    for (let i = 0; group === '' || (await findCoordinator(wires.get(other)!, group, 0)) === first; i++) group = `fenced-group-${i}`;
    const groupWire = wires.get(await findCoordinator(wires.get(other)!, group, 0))!;
    const added = await wires.get(first)!.request(ApiKeys.AddOffsetsToTxn, 3, { transactionalId: id, producerId: before.producerId, producerEpoch: before.producerEpoch, groupId: group });
    expect(added.errorCode).toBe(KafkaError.NONE);
    const commitOffset = (producerEpoch: number, offset: number) => txnOffsetCommit(groupWire, { transactionalId: id, groupId: group, producerId: before.producerId, producerEpoch }, 'fenced-data', offset);
    const fetchOffset = async () => {
      const topics = [{ name: 'fenced-data', partitionIndexes: [0] }];
      const partition = (await groupWire.request(ApiKeys.OffsetFetch, 7, { groupId: group, topics, requireStable: true, groups: [] })).topics[0]!.partitions[0]!;
      return [partition.errorCode, Number(partition.committedOffset)];
    };
    expect(await commitOffset(before.producerEpoch, 5)).toBe(KafkaError.NONE);
    expect(await fetchOffset()).toEqual([KafkaError.UNSTABLE_OFFSET_COMMIT, -1]);

    await cluster.find((b) => b.get<Cluster>(TOKENS.Cluster).nodeId === first)!.stop();
    wires.get(first)!.close();
    const successor = await findCoordinator(wires.get(other)!, id, 1);
    expect(successor).not.toBe(first);
    // The successor found the transaction open in the replicated log: aborted under epoch + 1 first, then epoch + 2 is handed out.
    const after = await init(wires.get(successor)!);
    expect(after).toMatchObject({ errorCode: KafkaError.NONE, producerId: before.producerId, producerEpoch: before.producerEpoch + 2 });
    await eventually(async () => (await fetchOffset()).join() === [KafkaError.NONE, -1].join(), 10_000, 'the aborted offsets dropped by the group coordinator');
    expect(await commitOffset(before.producerEpoch, 7)).toBe(KafkaError.INVALID_PRODUCER_EPOCH);
    const fenced = await wires.get(successor)!.request(ApiKeys.AddPartitionsToTxn, 3, {
      transactions: [],
      v3AndBelowTransactionalId: id,
      v3AndBelowProducerId: before.producerId,
      v3AndBelowProducerEpoch: before.producerEpoch,
      v3AndBelowTopics: [{ name: 'fenced-data', partitions: [0] }],
    });
    expect(fenced.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(KafkaError.PRODUCER_FENCED);
    for (const [nodeId, wire] of wires) if (nodeId !== first) wire.close();
  });

  it('refuses a marker of a deposed transaction coordinator: once the successor has written its marker under the newer coordinator epoch, an older coordinator epoch is TRANSACTION_COORDINATOR_FENCED (an older producer epoch INVALID_PRODUCER_EPOCH), the sender stops, and the log is unchanged; __transaction_state has 3 replicas and min.insync.replicas 2', async () => {
    const { dataLeader, brokerOf, wires, id, coordinator: first } = await transactionAcrossBrokers('zombie-data', 'zombie');
    const before = await initProducer(wires.get(first)!, id);
    expect(before.errorCode).toBe(KafkaError.NONE);
    const added = await wires.get(first)!.request(ApiKeys.AddPartitionsToTxn, 3, {
      transactions: [], v3AndBelowTransactionalId: id, v3AndBelowProducerId: before.producerId, v3AndBelowProducerEpoch: before.producerEpoch,
      v3AndBelowTopics: [{ name: 'zombie-data', partitions: [0] }],
    });
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(KafkaError.NONE);

    await brokerOf(first).stop();
    wires.get(first)!.close();
    const successor = await findCoordinator(wires.get(dataLeader)!, id, 1);
    // The successor aborted the open transaction under epoch + 1: its marker is in the data partition.
    expect(await initProducer(wires.get(successor)!, id)).toMatchObject({ errorCode: KafkaError.NONE, producerEpoch: before.producerEpoch + 2 });
    const described = await wires.get(dataLeader)!.request(ApiKeys.DescribeProducers, 0, { topics: [{ name: 'zombie-data', partitionIndexes: [0] }] });
    const producer = described.topics[0]!.partitions[0]!.activeProducers[0]!;
    expect(producer).toMatchObject({ producerId: before.producerId, producerEpoch: before.producerEpoch + 1 });
    // Kafka's coordinator epoch: the leader epoch of the id's __transaction_state partition when the successor loaded it.
    const statePartitions = brokerOf(successor).get<TopicRegistry>(TOKENS.TopicRegistry).get('__transaction_state')!.partitions;
    const clusterView = brokerOf(successor).get<Cluster>(TOKENS.Cluster);
    const ledBySuccessor = Array.from({ length: statePartitions }, (_, p) => clusterView.partitionState('__transaction_state', p)!).filter((p) => p.leader === successor);
    expect(ledBySuccessor.map((p) => p.leaderEpoch)).toContain(producer.coordinatorEpoch);
    expect(producer.coordinatorEpoch).toBeGreaterThan(0);

    const log = brokerOf(dataLeader).get<TopicRegistry>(TOKENS.TopicRegistry).log('zombie-data', 0)!;
    const end = log.logEndOffset;
    // The deposed coordinator's late marker, sent over the replication listener by a broker that does not lead the data.
    const sender = [1, 2, 3].find((n) => n !== first && n !== dataLeader)!;
    const channel = brokerOf(sender).get<TxnMarkerChannel>(TOKENS.TxnMarkers);
    const marker = { producerId: Number(before.producerId), producerEpoch: before.producerEpoch + 1, commit: true, partitions: [{ topic: 'zombie-data', partition: 0 }] };
    await expect(channel.send({ ...marker, coordinatorEpoch: producer.coordinatorEpoch - 1 }, () => true)).rejects.toMatchObject({ code: 'TRANSACTION_COORDINATOR_FENCED' });
    await expect(channel.send({ ...marker, producerEpoch: before.producerEpoch, coordinatorEpoch: producer.coordinatorEpoch }, () => true)).rejects.toMatchObject({ code: 'INVALID_PRODUCER_EPOCH' });
    expect(log.logEndOffset).toBe(end);
    const again = (await wires.get(dataLeader)!.request(ApiKeys.DescribeProducers, 0, { topics: [{ name: 'zombie-data', partitionIndexes: [0] }] })).topics[0]!.partitions[0]!.activeProducers[0];
    expect(again).toMatchObject({ producerEpoch: before.producerEpoch + 1, coordinatorEpoch: producer.coordinatorEpoch });

    // Kafka's transaction.state.log.replication.factor 3 and transaction.state.log.min.isr 2.
    expect(brokerOf(successor).get<TopicRegistry>(TOKENS.TopicRegistry).get('__transaction_state')!.config.minInsyncReplicas).toBe(2);
    for (let p = 0; p < statePartitions; p++) expect(clusterView.partitionState('__transaction_state', p)!.replicas).toHaveLength(3);
    for (const [nodeId, wire] of wires) if (nodeId !== first) wire.close();
  });

  it('refuses a TxnOffsetCommit whose group is not in the transaction (verified with the transaction coordinator, KIP-890) and one of an old producer epoch after the group coordinator changes: the successor has the epoch from the __consumer_offsets partition it loads', async () => {
    const cluster = await startCluster([1, 2, 3]);
    const admin = new Kafka({ clientId: 'moved-admin', brokers: cluster.map((b) => `127.0.0.1:${kafkaPort(b)}`), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'moved-data', numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const wires = new Map(await Promise.all(cluster.map(async (b) => [nodeIdOf(b), await KafkaWire.connect(kafkaPort(b))] as const)));
    const id = 'moved-offsets';
    const coordinator = await findCoordinator(wires.get(1)!, id, 1);
    let groupId = '';
    let groupCoordinator = -1;
    for (let i = 0; groupCoordinator < 0 || groupCoordinator === coordinator; i++) groupCoordinator = await findCoordinator(wires.get(coordinator)!, (groupId = `moved-group-${i}`), 0);
    const before = await initProducer(wires.get(coordinator)!, id);
    const txn = (producerEpoch: number) => ({ transactionalId: id, groupId, producerId: before.producerId, producerEpoch });
    const addOffsets = async (producerEpoch: number) =>
      (await wires.get(coordinator)!.request(ApiKeys.AddOffsetsToTxn, 3, { transactionalId: id, producerId: before.producerId, producerEpoch, groupId })).errorCode;
    // The group coordinator verifies the offsets partition with the transaction coordinator (KIP-890): not added yet, refused.
    expect(await txnOffsetCommit(wires.get(groupCoordinator)!, txn(before.producerEpoch), 'moved-data', 2)).toBe(KafkaError.INVALID_TXN_STATE);
    expect(await addOffsets(before.producerEpoch)).toBe(KafkaError.NONE);
    expect(await txnOffsetCommit(wires.get(groupCoordinator)!, txn(before.producerEpoch), 'moved-data', 3)).toBe(KafkaError.NONE);
    // A new epoch: the open transaction is aborted under epoch + 1, whose marker reaches the group's offsets partition.
    expect(await initProducer(wires.get(coordinator)!, id)).toMatchObject({ errorCode: KafkaError.NONE, producerEpoch: before.producerEpoch + 2 });

    await cluster.find((b) => nodeIdOf(b) === groupCoordinator)!.stop();
    wires.get(groupCoordinator)!.close();
    const successor = await findCoordinator(wires.get(coordinator)!, groupId, 0);
    expect(successor).not.toBe(groupCoordinator);
    let refused = -1;
    await eventually(async () => {
      refused = await txnOffsetCommit(wires.get(successor)!, txn(before.producerEpoch), 'moved-data', 5);
      return refused !== KafkaError.NOT_COORDINATOR && refused !== KafkaError.COORDINATOR_LOAD_IN_PROGRESS;
    }, 10_000, 'the successor answering TxnOffsetCommit');
    expect(refused).toBe(KafkaError.INVALID_PRODUCER_EPOCH);
    expect(await addOffsets(before.producerEpoch + 2)).toBe(KafkaError.NONE);
    expect(await txnOffsetCommit(wires.get(successor)!, txn(before.producerEpoch + 2), 'moved-data', 6)).toBe(KafkaError.NONE);
    for (const [nodeId, wire] of wires) if (nodeId !== groupCoordinator) wire.close();
  });
});
