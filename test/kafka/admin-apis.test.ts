import path from 'node:path';
import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKENS, type TopicRegistry } from '../../core/index.ts';
import { ApiKeys } from '../../plugins/kafka/codec/index.ts';
import { startBrokerProcess } from '../helpers/broker-process.ts';
import { eventually, startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';
import { hasProgram, runProgram, runPython } from '../helpers/programs.ts';
import { ROOT } from '../helpers/spawn.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** The admin APIs tools expect beyond topics and groups, over sockets: kafkajs, librdkafka, kafka-python, and raw requests where no client here sends them. */
let kafka: KafkaTestBroker;
let admin: Admin;
const dir = tempDir();
beforeAll(async () => {
  kafka = await startKafka({ dataDir: dir.path });
  admin = kafka.client().admin();
  await admin.connect();
});
afterAll(async () => {
  await admin.disconnect();
  await kafka.stop();
  dir.remove();
});

async function produce(topic: string, partition: number, count: number): Promise<void> {
  const producer = kafka.client().producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ partition, value: `${topic}-${partition}-${i}` })) });
  await producer.disconnect();
}

/** Commits offsets for a group without members, as a tool would (OffsetCommit, generation -1). */
async function commit(groupId: string, topic: string, offsets: readonly number[]): Promise<void> {
  const wire = await KafkaWire.connect(kafka.port);
  const partitions = offsets.map((committedOffset, partitionIndex) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }));
  const response = await wire.request(ApiKeys.OffsetCommit, 2, { groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: topic, partitions }] });
  wire.close();
  expect(response.topics[0]!.partitions.map((p) => p.errorCode)).toEqual(offsets.map(() => 0));
}

/** librdkafka's admin client through ctypes (test/fixtures/rdkafka-admin.py): one JSON answer. */
async function rdkafkaAdmin(...args: string[]): Promise<{ error: string | null; partitions: Array<{ topic: string; partition: number; offset: number; error: string | null }> }> {
  return JSON.parse(await runProgram('/usr/bin/python3', [path.join(ROOT, 'test/fixtures/rdkafka-admin.py'), kafka.brokers[0]!, ...args]));
}

const topicConfig = async (topic: string): Promise<Record<string, { value: string; isDefault: boolean }>> => {
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
  return Object.fromEntries(described.resources[0]!.configEntries.map((e) => [e.configName, { value: e.configValue, isDefault: e.isDefault }]));
};

describe('DeleteRecords', () => {
  it('kafkajs deleteTopicRecords moves the log start offset (-1: to the high watermark) and consumers start there; past the high watermark is OFFSET_OUT_OF_RANGE, a compacted topic refuses', async () => {
    await admin.createTopics({ topics: [{ topic: 'trim', numPartitions: 2 }, { topic: 'compacted', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    await produce('trim', 0, 10);
    await produce('trim', 1, 5);
    await admin.fetchTopicMetadata({ topics: ['trim'] }); // kafkajs looks partition leaders up in the metadata it fetched last
    await admin.deleteTopicRecords({ topic: 'trim', partitions: [{ partition: 0, offset: '4' }, { partition: 1, offset: '-1' }] });
    const offsets = (await admin.fetchTopicOffsets('trim')).sort((a, b) => a.partition - b.partition);
    expect(offsets).toEqual([
      { partition: 0, offset: '10', high: '10', low: '4' },
      { partition: 1, offset: '5', high: '5', low: '5' },
    ]);
    await admin.deleteTopicRecords({ topic: 'trim', partitions: [{ partition: 0, offset: '2' }] });
    expect((await admin.fetchTopicOffsets('trim')).find((p) => p.partition === 0)!.low).toBe('4');

    const consumer = kafka.client().consumer({ groupId: 'after-trim', maxWaitTimeInMs: 100 });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'trim', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await eventually(() => seen.length >= 6, 15_000, 'the records after the log start');
    await consumer.disconnect();
    expect(seen.sort()).toEqual(['trim-0-4', 'trim-0-5', 'trim-0-6', 'trim-0-7', 'trim-0-8', 'trim-0-9']);

    const failure = async (topic: string, offset: string) => {
      await admin.fetchTopicMetadata({ topics: [topic] });
      return admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset }] }).then(
        () => 'deleted',
        (err: { cause?: { partitions?: Array<{ error: { type: string } }> } }) => err.cause?.partitions?.[0]?.error.type,
      );
    };
    expect(await failure('trim', '11')).toBe('OFFSET_OUT_OF_RANGE');
    expect(await failure('compacted', '-1')).toBe('POLICY_VIOLATION');
  });

  it('keeps deleted records deleted when the broker is killed right after (kill -9, restart)', async () => {
    const data = tempDir();
    let broker = await startBrokerProcess(data.path, ['--topics-flush', 'never']);
    const client = (port: number) => new Kafka({ clientId: 'trim-crash', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
    const before = client(broker.ports.kafka!).admin();
    await before.connect();
    await before.createTopics({ topics: [{ topic: 'crash-trim' }] });
    const producer = client(broker.ports.kafka!).producer();
    await producer.connect();
    await producer.send({ topic: 'crash-trim', messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })) });
    await producer.disconnect();
    await before.fetchTopicMetadata({ topics: ['crash-trim'] });
    await before.deleteTopicRecords({ topic: 'crash-trim', partitions: [{ partition: 0, offset: '6' }] });
    await before.disconnect();
    await broker.kill();
    broker = await startBrokerProcess(data.path);
    const after = client(broker.ports.kafka!).admin();
    await after.connect();
    expect(await after.fetchTopicOffsets('crash-trim')).toEqual([{ partition: 0, offset: '10', high: '10', low: '6' }]);
    await after.disconnect();
    await broker.stop();
    data.remove();
  });

  it.skipIf(!hasProgram('librdkafka', 'the librdkafka DeleteRecords test'))('librdkafka DeleteRecords answers each partition with its new low watermark or its error', async () => {
    await admin.createTopics({ topics: [{ topic: 'rd-trim', numPartitions: 2 }] });
    await produce('rd-trim', 0, 8);
    const deleted = await rdkafkaAdmin('delete-records', 'rd-trim', '0:3', '1:0');
    expect(deleted).toEqual({
      error: null,
      partitions: [
        { topic: 'rd-trim', partition: 0, offset: 3, error: null },
        { topic: 'rd-trim', partition: 1, offset: 0, error: null },
      ],
    });
    expect((await rdkafkaAdmin('delete-records', 'rd-trim', '0:9')).partitions[0]).toMatchObject({ error: 'OFFSET_OUT_OF_RANGE' });
    expect((await rdkafkaAdmin('delete-records', 'rd-trim', '0:-1')).partitions[0]).toMatchObject({ offset: 8, error: null });
  });
});

describe('AlterConfigs', () => {
  it('kafkajs alterConfigs replaces a topic\'s overrides, changes nothing with validateOnly, and refuses unknown configs and the broker\'s static ones', async () => {
    await admin.createTopics({ topics: [{ topic: 'altered', configEntries: [{ name: 'segment.bytes', value: '1048576' }] }] });
    const alter = (name: string, configEntries: Array<{ name: string; value: string }>, validateOnly = false, type = ConfigResourceTypes.TOPIC) =>
      admin.alterConfigs({ validateOnly, resources: [{ type, name, configEntries }] }).then(
        () => 'altered',
        (err: { type?: string }) => err.type,
      );
    expect(await alter('altered', [{ name: 'retention.ms', value: '120000' }], true)).toBe('altered');
    expect((await topicConfig('altered'))['retention.ms']!.isDefault).toBe(true);
    expect(await alter('altered', [{ name: 'retention.ms', value: '120000' }, { name: 'cleanup.policy', value: 'delete,compact' }])).toBe('altered');
    const configs = await topicConfig('altered');
    expect(configs['retention.ms']).toEqual({ value: '120000', isDefault: false });
    expect(configs['cleanup.policy']).toEqual({ value: 'compact,delete', isDefault: false });
    expect(configs['segment.bytes']!.isDefault).toBe(true);
    expect(await alter('altered', [{ name: 'no.such.config', value: '1' }])).toBe('INVALID_CONFIG');
    expect(await alter('altered', [{ name: 'retention.ms', value: 'soon' }])).toBe('INVALID_CONFIG');
    expect(await alter('missing', [{ name: 'retention.ms', value: '1' }])).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(await alter('1', [{ name: 'log.retention.ms', value: '1' }], false, ConfigResourceTypes.BROKER)).toBe('INVALID_REQUEST');
    expect((await topicConfig('altered'))['retention.ms']!.value).toBe('120000');
  });

  it.skipIf(!hasProgram('confluent-kafka', 'the confluent-kafka alter_configs test'))('confluent-kafka (librdkafka) alter_configs sets topic configs', async () => {
    await admin.createTopics({ topics: [{ topic: 'rd-altered' }] });
    const out = await runPython(`
from confluent_kafka.admin import AdminClient, ConfigResource
a = AdminClient({'bootstrap.servers': '${kafka.brokers[0]}'})
r = ConfigResource('topic', 'rd-altered', set_config={'retention.ms': '3600000', 'max.message.bytes': '2000000'})
for f in a.alter_configs([r]).values(): f.result()
bad = ConfigResource('topic', 'rd-altered', set_config={'retention.ms': 'x'})
for f in a.alter_configs([bad]).values():
    try:
        f.result(); print('accepted')
    except Exception as e: print(e.args[0].name())
c = a.describe_configs([ConfigResource('topic', 'rd-altered')])
entries = list(c.values())[0].result()
print(entries['retention.ms'].value, entries['max.message.bytes'].value)
`);
    expect(out.trim().split('\n')).toEqual(['INVALID_CONFIG', '3600000 2000000']);
  });

  it.skipIf(!hasProgram('kafka-python', 'the kafka-python alter_configs test'))('kafka-python alter_configs sets topic configs', async () => {
    await admin.createTopics({ topics: [{ topic: 'py-altered' }] });
    const out = await runPython(`
from kafka.admin import KafkaAdminClient, ConfigResource, ConfigResourceType
a = KafkaAdminClient(bootstrap_servers='${kafka.brokers[0]}')
r = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, 'py-altered', configs={'message.timestamp.type': 'LogAppendTime'})])
print(r.resources)
a.close()
`);
    expect(out).toContain("(0, None, 2, 'py-altered')");
    expect((await topicConfig('py-altered'))['message.timestamp.type']).toEqual({ value: 'LogAppendTime', isDefault: false });
  });
});

describe('IncrementalAlterConfigs', () => {
  it('sets, deletes, appends to and subtracts from topic configs, v0 and flexible v1, with Kafka\'s errors per resource', async () => {
    await admin.createTopics({ topics: [{ topic: 'incremental', configEntries: [{ name: 'segment.bytes', value: '1048576' }] }] });
    const wire = await KafkaWire.connect(kafka.port);
    const SET = 0;
    const DELETE = 1;
    const APPEND = 2;
    const SUBTRACT = 3;
    const alter = async (version: number, resources: Array<{ resourceType?: number; resourceName?: string; configs: Array<{ name: string; configOperation: number; value: string | null }> }>, validateOnly = false) =>
      (await wire.request(ApiKeys.IncrementalAlterConfigs, version, { validateOnly, resources: resources.map((r) => ({ resourceType: 2, resourceName: 'incremental', ...r })) })).responses.map((r) => [r.errorCode, r.errorMessage]);

    expect(await alter(0, [{ configs: [{ name: 'retention.ms', configOperation: SET, value: '60000' }, { name: 'cleanup.policy', configOperation: APPEND, value: 'compact' }] }])).toEqual([[0, null]]);
    let configs = await topicConfig('incremental');
    expect(configs['retention.ms']).toEqual({ value: '60000', isDefault: false });
    expect(configs['segment.bytes']).toEqual({ value: '1048576', isDefault: false });
    expect(configs['cleanup.policy']).toEqual({ value: 'compact,delete', isDefault: false });

    expect(await alter(1, [{ configs: [{ name: 'segment.bytes', configOperation: DELETE, value: null }, { name: 'cleanup.policy', configOperation: SUBTRACT, value: 'delete' }] }])).toEqual([[0, null]]);
    configs = await topicConfig('incremental');
    expect(configs['segment.bytes']!.isDefault).toBe(true);
    expect(configs['cleanup.policy']!.value).toBe('compact');
    expect(configs['retention.ms']!.value).toBe('60000');

    expect(await alter(1, [{ configs: [{ name: 'retention.ms', configOperation: SET, value: '1' }] }], true)).toEqual([[0, null]]);
    expect((await topicConfig('incremental'))['retention.ms']!.value).toBe('60000');

    const errors = await alter(1, [
      { configs: [{ name: 'retention.ms', configOperation: APPEND, value: '5' }] },
      { resourceName: 'other-a', configs: [{ name: 'no.such.config', configOperation: SET, value: '1' }] },
      { resourceName: 'other-b', configs: [{ name: 'retention.ms', configOperation: SET, value: null }] },
      { resourceName: 'other-c', configs: [{ name: 'retention.ms', configOperation: SET, value: '1' }, { name: 'retention.ms', configOperation: DELETE, value: null }] },
      { resourceName: 'missing', configs: [{ name: 'retention.ms', configOperation: SET, value: '1' }] },
      { resourceName: 'bad name!', configs: [] },
      { resourceType: 4, resourceName: '1', configs: [{ name: 'log.retention.ms', configOperation: SET, value: '1' }, { name: 'num.partitions', configOperation: SET, value: '3' }] },
      { resourceType: 4, resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: DELETE, value: null }] },
      { resourceType: 4, resourceName: '2', configs: [] },
      { resourceType: 4, resourceName: 'x', configs: [] },
      { resourceType: 99, resourceName: 'x', configs: [] },
    ]);
    expect(errors).toEqual([
      [40, "Can't APPEND to key retention.ms because its type is not LIST."],
      [40, 'Unknown or unsupported topic config name: no.such.config'],
      [42, 'Null value not supported for : retention.ms'],
      [42, 'Error due to duplicate config keys'],
      [3, "The topic 'missing' does not exist."],
      [17, expect.stringContaining('is not valid')],
      [42, 'Cannot update these configs dynamically: Set(log.retention.ms, num.partitions)'],
      [0, null],
      [42, 'Unexpected broker id, expected 1, but received 2'],
      [42, 'Node id must be an integer, but it is: x'],
      [42, 'Unknown resource type 99'],
    ]);
    expect(await alter(0, [{ configs: [] }, { configs: [] }])).toEqual([
      [42, 'Each resource must appear at most once.'],
      [42, 'Each resource must appear at most once.'],
    ]);
    wire.close();
  });
});

describe('DescribeLogDirs', () => {
  it('describes the data directory, every version, with each partition\'s size and offset lag, and the volume\'s sizes from v4', async () => {
    await admin.createTopics({ topics: [{ topic: 'sized', numPartitions: 3 }] });
    await produce('sized', 0, 20);
    await produce('sized', 2, 3);
    const sizes = [0, 1, 2].map((p) => kafka.broker.get<TopicRegistry>(TOKENS.TopicRegistry).log('sized', p)!.size);
    expect(sizes[0]).toBeGreaterThan(sizes[2]!);
    expect(sizes[1]).toBe(0);
    const wire = await KafkaWire.connect(kafka.port);
    for (let version = 0; version <= 4; version++) {
      const response = await wire.request(ApiKeys.DescribeLogDirs, version, { topics: [{ topic: 'sized', partitions: [2, 0, 0, 7] }, { topic: 'missing', partitions: [0] }] });
      expect(response.errorCode).toBe(0);
      expect(response.results).toHaveLength(1);
      const [result] = response.results;
      expect(result).toMatchObject({ errorCode: 0, logDir: path.resolve(dir.path) });
      expect(result!.topics).toEqual([
        {
          name: 'sized',
          partitions: [
            { partitionIndex: 0, partitionSize: sizes[0], offsetLag: 0, isFutureKey: false },
            { partitionIndex: 2, partitionSize: sizes[2], offsetLag: 0, isFutureKey: false },
          ],
        },
      ]);
      if (version >= 4) {
        expect(result!.totalBytes).toBeGreaterThan(0);
        expect(result!.usableBytes).toBeGreaterThan(0);
        expect(result!.usableBytes).toBeLessThanOrEqual(result!.totalBytes);
      } else expect(result!.totalBytes).toBe(-1);
    }
    const all = await wire.request(ApiKeys.DescribeLogDirs, 2, { topics: null });
    const listed = new Map(all.results[0]!.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]));
    expect(listed.get('sized')).toEqual([0, 1, 2]);
    expect(listed.get('trim')).toEqual([0, 1]);
    wire.close();
  });

  it('names storage without a disk `memory`, with unknown volume sizes', async () => {
    const memory = await startKafka();
    const wire = await KafkaWire.connect(memory.port);
    const response = await wire.request(ApiKeys.DescribeLogDirs, 4, { topics: null });
    expect(response.results).toEqual([{ errorCode: 0, logDir: 'memory', topics: [], totalBytes: -1, usableBytes: -1 }]);
    wire.close();
    await memory.stop();
  });
});

describe('DescribeCluster', () => {
  it('lists the live brokers and the controller, and refuses the controller endpoint type as Kafka\'s broker does', async () => {
    const wire = await KafkaWire.connect(kafka.port);
    const metadata = await wire.request(ApiKeys.Metadata, 8, { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    for (const version of [0, 1]) {
      const response = await wire.request(ApiKeys.DescribeCluster, version, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      expect(response).toMatchObject({ errorCode: 0, errorMessage: null, clusterId: metadata.clusterId, controllerId: 1, brokers: [{ brokerId: 1, host: '127.0.0.1', port: kafka.port, rack: null }], clusterAuthorizedOperations: -2147483648 });
    }
    const withOperations = await wire.request(ApiKeys.DescribeCluster, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 });
    expect(withOperations.clusterAuthorizedOperations).toBe(0b1_1111_1010_0000);
    expect(await wire.request(ApiKeys.DescribeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 2 })).toMatchObject({ errorCode: 114, brokers: [] });
    expect(await wire.request(ApiKeys.DescribeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 7 })).toMatchObject({ errorCode: 115, errorMessage: 'Unsupported endpoint type 7' });
    const versions = await wire.request(ApiKeys.ApiVersions, 3, { clientSoftwareName: 'wire', clientSoftwareVersion: '1' });
    for (const [apiKey, maxVersion] of [[21, 2], [33, 2], [35, 4], [44, 1], [47, 0], [60, 1]]) expect(versions.apiKeys).toContainEqual({ apiKey, minVersion: 0, maxVersion });
    wire.close();
    const described = await admin.describeCluster();
    expect(described).toMatchObject({ controller: 1, clusterId: metadata.clusterId, brokers: [{ nodeId: 1, port: kafka.port }] });
  });
});

describe('OffsetDelete', () => {
  it.skipIf(!hasProgram('librdkafka', 'the librdkafka OffsetDelete test'))('librdkafka deletes a group\'s offsets except of topics its live members subscribe to', async () => {
    await admin.createTopics({ topics: [{ topic: 'subscribed' }, { topic: 'abandoned', numPartitions: 2 }] });
    await commit('forgetful', 'subscribed', [0]);
    await commit('forgetful', 'abandoned', [5, 6]);
    const consumer = kafka.client().consumer({ groupId: 'forgetful', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'subscribed' });
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => void (joined = true));
    await consumer.run({ eachMessage: async () => undefined });
    await eventually(() => joined, 15_000, 'the consumer joined');

    expect(await rdkafkaAdmin('delete-group-offsets', 'forgetful', 'subscribed', '0')).toEqual({
      error: null,
      partitions: [{ topic: 'subscribed', partition: 0, offset: -1001, error: 'GROUP_SUBSCRIBED_TO_TOPIC' }],
    });
    expect(await rdkafkaAdmin('delete-group-offsets', 'forgetful', 'abandoned', '0', '9')).toEqual({
      error: null,
      partitions: [
        { topic: 'abandoned', partition: 0, offset: -1001, error: null },
        { topic: 'abandoned', partition: 9, offset: -1001, error: 'UNKNOWN_TOPIC_OR_PART' },
      ],
    });
    const committed = async (topic: string) => (await admin.fetchOffsets({ groupId: 'forgetful', topics: [topic] }))[0]!.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset);
    expect(await committed('abandoned')).toEqual(['-1', '6']);
    expect(await committed('subscribed')).toEqual(['0']);
    expect((await rdkafkaAdmin('delete-group-offsets', 'nobody', 'abandoned', '1')).error).toBe('GROUP_ID_NOT_FOUND');

    await consumer.disconnect();
    expect((await rdkafkaAdmin('delete-group-offsets', 'forgetful', 'subscribed', '0')).partitions[0]!.error).toBeNull();
    expect(await committed('subscribed')).toEqual(['-1']);
  });

  it('refuses a group with live members of a protocol it cannot read (NON_EMPTY_GROUP), an empty group id, and unknown groups', async () => {
    const wire = await KafkaWire.connect(kafka.port);
    const join = { groupId: 'connectors', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', groupInstanceId: null, protocolType: 'connect', protocols: [{ name: 'default', metadata: Buffer.from('x') }], reason: null };
    const joined = await wire.request(ApiKeys.JoinGroup, 3, join);
    expect(joined.errorCode).toBe(0);
    const remove = (groupId: string) => wire.request(ApiKeys.OffsetDelete, 0, { groupId, topics: [{ name: 'abandoned', partitions: [{ partitionIndex: 1 }] }] });
    expect(await remove('connectors')).toEqual({ errorCode: 68, throttleTimeMs: 0, topics: [] });
    expect(await remove('')).toEqual({ errorCode: 24, throttleTimeMs: 0, topics: [] });
    expect(await remove('never-seen')).toEqual({ errorCode: 69, throttleTimeMs: 0, topics: [] });
    wire.close();
  });
});
