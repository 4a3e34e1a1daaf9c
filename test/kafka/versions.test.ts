import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import * as arb from '../../plugins/kafka/codec/generated/arbitraries.ts';
import {
  ApiKeys,
  defaultFetchRequest,
  defaultFetchRequestFetchPartition,
  defaultFetchRequestFetchTopic,
  defaultListOffsetsRequest,
  defaultMetadataRequest,
  defaultOffsetFetchRequest,
  type ApiCodec,
  type FetchRequest,
  type MetadataRequest,
} from '../../plugins/kafka/codec/index.ts';
import { KafkaError } from '../../plugins/kafka/error-codes.ts';
import { startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';

const arbitraries = arb as unknown as Record<string, (version: number) => fc.Arbitrary<unknown>>;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(topics: Array<{ topic: string; numPartitions: number }>): Promise<{ kafka: KafkaTestBroker; wire: KafkaWire }> {
  const kafka = await startKafka();
  cleanups.push(() => kafka.stop());
  const admin = kafka.client().admin();
  await admin.connect();
  await admin.createTopics({ topics });
  await admin.disconnect();
  const wire = await KafkaWire.connect(kafka.port);
  cleanups.push(() => wire.close());
  return { kafka, wire };
}

const metadataOf = (wire: KafkaWire, version: number, topics: Array<{ name: string | null; topicId: Buffer }> | null) =>
  wire.request(ApiKeys.Metadata, version, { ...defaultMetadataRequest(), topics, allowAutoTopicCreation: false });

const fetchById = (topicId: Buffer, partitions: number[]): FetchRequest => ({
    ...defaultFetchRequest(),
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    sessionEpoch: -1,
    topics: [{ ...defaultFetchRequestFetchTopic(), topicId, partitions: partitions.map((partition) => ({ ...defaultFetchRequestFetchPartition(), partition, fetchOffset: 0, partitionMaxBytes: 1 << 20 })) }],
  });

describe('Kafka 3.9 API versions on the wire', () => {
  it('names topics by a stable id (Metadata v10+, by id in v12) that a re-created topic does not keep, and Fetch v13+ reads by id or answers UNKNOWN_TOPIC_ID', async () => {
    const { kafka, wire } = await setUp([{ topic: 'ids', numPartitions: 2 }]);
    const producer = kafka.client().producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    await producer.send({ topic: 'ids', messages: [{ value: 'one', partition: 1 }] });

    const byName = await metadataOf(wire, 12, [{ name: 'ids', topicId: Buffer.alloc(16) }]);
    const id = byName.topics[0]!.topicId;
    expect(id.equals(Buffer.alloc(16))).toBe(false);
    expect((await metadataOf(wire, 10, null)).topics.find((t) => t.name === 'ids')!.topicId).toEqual(id);
    const byId = await metadataOf(wire, 12, [{ name: null, topicId: id }]);
    expect(byId.topics.map((t) => [t.name, t.errorCode, t.partitions.length])).toEqual([['ids', KafkaError.NONE, 2]]);

    const read = await wire.request(ApiKeys.Fetch, 17, fetchById(id, [0, 1]));
    expect(read.responses.map((t) => t.topicId)).toEqual([id]);
    expect(read.responses[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.highWatermark])).toEqual([
      [0, KafkaError.NONE, 0],
      [1, KafkaError.NONE, 1],
    ]);

    const admin = kafka.client().admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    await admin.deleteTopics({ topics: ['ids'] });
    await admin.createTopics({ topics: [{ topic: 'ids', numPartitions: 2 }] });
    const recreated = (await metadataOf(wire, 12, [{ name: 'ids', topicId: Buffer.alloc(16) }])).topics[0]!.topicId;
    expect(recreated.equals(id)).toBe(false);
    expect((await metadataOf(wire, 12, [{ name: null, topicId: id }])).topics.map((t) => [t.name, t.errorCode])).toEqual([[null, KafkaError.UNKNOWN_TOPIC_ID]]);
    const stale = await wire.request(ApiKeys.Fetch, 13, fetchById(id, [0]));
    expect(stale.responses[0]!.topicId).toEqual(id);
    expect(stale.responses[0]!.partitions[0]!.errorCode).toBe(KafkaError.UNKNOWN_TOPIC_ID);

    // DeleteTopics v6 by id.
    const deleted = await wire.request(ApiKeys.DeleteTopics, 6, { topics: [{ name: null, topicId: recreated }, { name: null, topicId: id }], topicNames: [], timeoutMs: 5000 });
    expect(deleted.responses.map((r) => [r.name, r.errorCode])).toEqual([
      ['ids', KafkaError.NONE],
      [null, KafkaError.UNKNOWN_TOPIC_ID],
    ]);
  });

  it('answers ListOffsets v7-v9 special timestamps as Kafka without tiered storage: max timestamp, earliest local, latest tiered', async () => {
    const { kafka, wire } = await setUp([{ topic: 'times', numPartitions: 1 }]);
    const producer = kafka.client().producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    await producer.send({
      topic: 'times',
      messages: [
        { value: 'a', timestamp: '1000' },
        { value: 'b', timestamp: '5000' },
        { value: 'c', timestamp: '3000' },
      ],
    });
    await producer.send({ topic: 'times', messages: [{ value: 'd', timestamp: '2000' }] });
    const lookup = async (version: number, timestamp: number) => {
      const response = await wire.request(ApiKeys.ListOffsets, version, {
        ...defaultListOffsetsRequest(),
        replicaId: -1,
        topics: [{ name: 'times', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
      });
      const p = response.topics[0]!.partitions[0]!;
      return [p.errorCode, p.offset, p.timestamp];
    };
    expect(await lookup(7, -3)).toEqual([KafkaError.NONE, 1, 5000]);
    expect(await lookup(8, -4)).toEqual([KafkaError.NONE, 0, -1]);
    expect(await lookup(9, -5)).toEqual([KafkaError.NONE, -1, -1]);
    expect(await lookup(9, -1)).toEqual([KafkaError.NONE, 4, -1]);
  });

  it('fetches the committed offsets of several groups in one OffsetFetch v8+, each answered on its own', async () => {
    const { kafka, wire } = await setUp([{ topic: 'batched', numPartitions: 2 }]);
    const admin = kafka.client().admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    await admin.setOffsets({ groupId: 'first', topic: 'batched', partitions: [{ partition: 0, offset: '0' }] });
    const response = await wire.request(ApiKeys.OffsetFetch, 9, {
      ...defaultOffsetFetchRequest(),
      groups: [
        { groupId: 'first', memberId: null, memberEpoch: -1, topics: [{ name: 'batched', partitionIndexes: [0, 1] }] },
        { groupId: 'second', memberId: null, memberEpoch: -1, topics: null },
      ],
    });
    expect(response.groups.map((g) => [g.groupId, g.errorCode, g.topics.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.committedOffset]))])).toEqual([
      ['first', KafkaError.NONE, [['batched', 0, 0], ['batched', 1, -1]]],
      ['second', KafkaError.NONE, []],
    ]);
  });

  it('answers ElectLeaders on a single node as Kafka does for partitions already led by their preferred replica', async () => {
    const { wire } = await setUp([{ topic: 'elect', numPartitions: 2 }]);
    for (const version of [0, 1, 2]) {
      const named = await wire.request(ApiKeys.ElectLeaders, version, {
        electionType: 0,
        timeoutMs: 1000,
        topicPartitions: [
          { topic: 'elect', partitions: [0, 1, 2] },
          { topic: 'missing', partitions: [0] },
        ],
      });
      expect(named.errorCode).toBe(KafkaError.NONE);
      expect(named.replicaElectionResults.map((t) => [t.topic, t.partitionResult.map((p) => [p.partitionId, p.errorCode])])).toEqual([
        ['elect', [[0, KafkaError.ELECTION_NOT_NEEDED], [1, KafkaError.ELECTION_NOT_NEEDED], [2, KafkaError.UNKNOWN_TOPIC_OR_PARTITION]]],
        ['missing', [[0, KafkaError.UNKNOWN_TOPIC_OR_PARTITION]]],
      ]);
    }
    const unclean = await wire.request(ApiKeys.ElectLeaders, 2, { electionType: 1, timeoutMs: 1000, topicPartitions: [{ topic: 'elect', partitions: [0] }] });
    expect(unclean.replicaElectionResults[0]!.partitionResult[0]!.errorCode).toBe(KafkaError.ELECTION_NOT_NEEDED);
    // Every partition: those that need no election are left out.
    const all = await wire.request(ApiKeys.ElectLeaders, 2, { electionType: 0, timeoutMs: 1000, topicPartitions: null });
    expect(all).toMatchObject({ errorCode: KafkaError.NONE, replicaElectionResults: [] });
  });

  it('survives arbitrary well-formed requests of the new APIs and versions: each is answered as Kafka would (none closes its connection), and the broker keeps serving', async () => {
    const { kafka } = await setUp([{ topic: 'fuzzed', numPartitions: 2 }]);
    const cases: Array<[ApiCodec, number[]]> = [
      [ApiKeys.ElectLeaders, [0, 1, 2]],
      [ApiKeys.OffsetForLeaderEpoch, [0, 1, 2, 3, 4]],
      [ApiKeys.DescribeClientQuotas, [0, 1]],
      [ApiKeys.AlterClientQuotas, [0, 1]],
      [ApiKeys.Metadata, [10, 11, 12]],
      [ApiKeys.ListOffsets, [6, 7, 8, 9]],
      [ApiKeys.OffsetFetch, [8, 9]],
      [ApiKeys.FindCoordinator, [4, 5, 6]],
      [ApiKeys.DeleteTopics, [6]],
      [ApiKeys.ListGroups, [4, 5]],
      [ApiKeys.Produce, [9, 10, 11]],
      [ApiKeys.Fetch, [12, 13, 14, 15, 16, 17]],
    ];
    for (const [api, versions] of cases) {
      for (const version of versions) {
        const bodies = fc.sample(arbitraries[`arbitrary${api.name}Request`]!(version), { numRuns: 15, seed: 7 + version });
        const wire = await KafkaWire.connect(kafka.port);
        for (const body of bodies) {
          // Bounded waits: ElectLeaders' timeout is the only one these requests carry.
          if (api === ApiKeys.ElectLeaders || api === ApiKeys.Produce) (body as { timeoutMs: number }).timeoutMs = 10;
          if (api === ApiKeys.Produce) (body as { acks: number }).acks = -1;
          if (api === ApiKeys.Fetch) (body as { maxWaitMs: number }).maxWaitMs = 0;
          // A null topic name before v12 is refused by closing the connection, as Kafka (its error response cannot be written).
          if (api === ApiKeys.Metadata && version < 12 && (body as MetadataRequest).topics?.some((t) => t.name === null)) continue;
          const outcome = await Promise.race([wire.request(api, version, body).then(() => 'answered'), wire.closed.then(() => 'closed')]);
          expect([api.name, version, outcome, body]).toEqual([api.name, version, 'answered', body]);
        }
        wire.close();
      }
    }
    const check = await KafkaWire.connect(kafka.port);
    cleanups.push(() => check.close());
    expect((await metadataOf(check, 12, null)).brokers).toHaveLength(1);
  });

  it('joins a group at JoinGroup v9 (with a reason) and refuses a SyncGroup v5 naming another protocol type or name with INCONSISTENT_GROUP_PROTOCOL', async () => {
    const { wire } = await setUp([{ topic: 'joined', numPartitions: 1 }]);
    const join = (memberId: string) =>
      wire.request(ApiKeys.JoinGroup, 9, {
        groupId: 'v9',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
        reason: 'starting',
      });
    const first = await join('');
    expect(first.errorCode).toBe(KafkaError.MEMBER_ID_REQUIRED);
    const joined = await join(first.memberId);
    expect([joined.errorCode, joined.protocolType, joined.protocolName, joined.leader]).toEqual([KafkaError.NONE, 'consumer', 'range', first.memberId]);
    const sync = (protocolType: string | null, protocolName: string | null) =>
      wire.request(ApiKeys.SyncGroup, 5, { groupId: 'v9', generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null, protocolType, protocolName, assignments: [] });
    expect((await sync('connect', 'range')).errorCode).toBe(KafkaError.INCONSISTENT_GROUP_PROTOCOL);
    expect((await sync('consumer', 'roundrobin')).errorCode).toBe(KafkaError.INCONSISTENT_GROUP_PROTOCOL);
    const synced = await sync('consumer', 'range');
    expect([synced.errorCode, synced.protocolType, synced.protocolName]).toEqual([KafkaError.NONE, 'consumer', 'range']);
    expect((await sync(null, null)).errorCode).toBe(KafkaError.NONE);
  });
});

describe('OffsetForLeaderEpoch', () => {
  it('answers where epoch 0 ends on a single node (the log end), undefined for a later epoch, UNKNOWN_TOPIC_OR_PARTITION, at every version', async () => {
    const { kafka, wire } = await setUp([{ topic: 'epochs', numPartitions: 1 }]);
    const producer = kafka.client().producer();
    await producer.connect();
    await producer.send({ topic: 'epochs', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    await producer.disconnect();
    for (let version = 0; version <= 4; version++) {
      const response = await wire.request(ApiKeys.OffsetForLeaderEpoch, version, {
        replicaId: -1,
        topics: [
          { topic: 'epochs', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }, { partition: 1, currentLeaderEpoch: -1, leaderEpoch: 0 }] },
          { topic: 'missing', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] },
        ],
      });
      const [epochs, missing] = response.topics;
      expect(epochs!.partitions[0]).toMatchObject({ errorCode: KafkaError.NONE, endOffset: 3, ...(version >= 1 ? { leaderEpoch: 0 } : {}) });
      expect(epochs!.partitions[1]!.errorCode).toBe(KafkaError.UNKNOWN_TOPIC_OR_PARTITION);
      expect(missing!.partitions[0]!.errorCode).toBe(KafkaError.UNKNOWN_TOPIC_OR_PARTITION);
    }
    const later = await wire.request(ApiKeys.OffsetForLeaderEpoch, 4, { replicaId: -1, topics: [{ topic: 'epochs', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 3 }] }] });
    expect(later.topics[0]!.partitions[0]).toMatchObject({ errorCode: KafkaError.NONE, leaderEpoch: -1, endOffset: -1 });
  });
});
