import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';

let kafka: KafkaTestBroker;
beforeAll(async () => {
  kafka = await startKafka();
});
afterAll(() => kafka.stop());

describe('kafkajs admin', () => {
  it('creates, lists, describes, grows and deletes topics, with per-topic configs', async () => {
    const admin = kafka.client().admin();
    await admin.connect();
    expect(
      await admin.createTopics({
        topics: [
          { topic: 'admin-a', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '60000' }, { name: 'segment.bytes', value: '1048576' }] },
          { topic: 'admin-b', numPartitions: 1, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] },
        ],
      }),
    ).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: 'admin-a' }] })).toBe(false);
    const creationError = (topics: Parameters<typeof admin.createTopics>[0]['topics']) =>
      admin.createTopics({ topics }).then(
        () => 'created',
        (err: { errors?: Array<{ type: string }> }) => err.errors?.[0]?.type,
      );
    expect(await creationError([{ topic: 'bad name!' }])).toBe('INVALID_TOPIC_EXCEPTION');
    expect(await creationError([{ topic: 'bad-config', configEntries: [{ name: 'no.such.config', value: '1' }] }])).toBe('INVALID_CONFIG');
    expect(await creationError([{ topic: 'replicated', replicationFactor: 3 }])).toBe('INVALID_REPLICATION_FACTOR');
    expect(await admin.createTopics({ topics: [{ topic: 'validate-only' }], validateOnly: true, waitForLeaders: false })).toBe(true);
    expect((await admin.listTopics()).sort()).toEqual(['admin-a', 'admin-b']);

    const metadata = await admin.fetchTopicMetadata({ topics: ['admin-a'] });
    expect(metadata.topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1]);
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'admin-a' }] });
    const entries = Object.fromEntries(configs.resources[0]!.configEntries.map((e) => [e.configName, e]));
    expect(entries['retention.ms']).toMatchObject({ configValue: '60000', isDefault: false });
    expect(entries['segment.bytes']).toMatchObject({ configValue: '1048576', isDefault: false });
    expect(entries['cleanup.policy']).toMatchObject({ configValue: 'delete', isDefault: true });

    await admin.createPartitions({ topicPartitions: [{ topic: 'admin-a', count: 5 }] });
    expect((await admin.fetchTopicMetadata({ topics: ['admin-a'] })).topics[0]!.partitions).toHaveLength(5);
    await expect(admin.createPartitions({ topicPartitions: [{ topic: 'admin-a', count: 2 }] })).rejects.toThrow();

    await admin.deleteTopics({ topics: ['admin-b'] });
    expect(await admin.listTopics()).toEqual(['admin-a']);
    await admin.disconnect();
  });

  it('takes min.insync.replicas as a topic config and refuses acks=all produces with NOT_ENOUGH_REPLICAS while acks=1 works', async () => {
    const client = kafka.client({ retry: { retries: 0 } });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'min-isr', configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'min-isr' }] });
    expect(configs.resources[0]!.configEntries.find((e) => e.configName === 'min.insync.replicas')).toMatchObject({ configValue: '2', isDefault: false });
    const producer = client.producer({ retry: { retries: 0 } });
    await producer.connect();
    const refused = await producer.send({ topic: 'min-isr', acks: -1, messages: [{ value: 'all' }] }).then(
      () => 'stored',
      (err: { type?: string; cause?: { type?: string } }) => err.type ?? err.cause?.type,
    );
    expect(refused).toBe('NOT_ENOUGH_REPLICAS');
    const [stored] = await producer.send({ topic: 'min-isr', acks: 1, messages: [{ value: 'leader' }] });
    expect(stored!.baseOffset).toBe('0');
    expect(await admin.fetchTopicOffsets('min-isr')).toEqual([{ partition: 0, offset: '1', high: '1', low: '0' }]);
    await producer.disconnect();
    await admin.disconnect();
  });

  it('finds offsets by timestamp, earliest and latest (ListOffsets)', async () => {
    const client = kafka.client();
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'timed', numPartitions: 1 }] });
    const producer = client.producer();
    await producer.connect();
    const base = Date.now() - 100_000;
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'timed', messages: [{ value: `m${i}`, timestamp: String(base + i * 1000) }] });
    expect(await admin.fetchTopicOffsetsByTimestamp('timed', base + 4500)).toEqual([{ partition: 0, offset: '5' }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('timed', base)).toEqual([{ partition: 0, offset: '0' }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('timed', base + 999_999)).toEqual([{ partition: 0, offset: '10' }]);
    expect(await admin.fetchTopicOffsets('timed')).toEqual([{ partition: 0, offset: '10', high: '10', low: '0' }]);
    await producer.disconnect();
    await admin.disconnect();
  });

  it('lists, describes, resets and deletes consumer groups and their offsets', async () => {
    const client = kafka.client();
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'g-topic', numPartitions: 2 }] });
    await admin.setOffsets({ groupId: 'offline-group', topic: 'g-topic', partitions: [{ partition: 0, offset: '3' }, { partition: 1, offset: '4' }] });
    expect((await admin.fetchOffsets({ groupId: 'offline-group', topics: ['g-topic'] }))[0]!.partitions.sort((a, b) => a.partition - b.partition)).toEqual([
      { partition: 0, offset: '3', metadata: null },
      { partition: 1, offset: '4', metadata: null },
    ]);
    const groups = await admin.listGroups();
    expect(groups.groups.map((g) => g.groupId)).toContain('offline-group');
    expect((await admin.describeGroups(['offline-group'])).groups[0]!.state).toBe('Empty');
    await admin.deleteGroups(['offline-group']);
    expect((await admin.fetchOffsets({ groupId: 'offline-group', topics: ['g-topic'] }))[0]!.partitions.map((p) => p.offset)).toEqual(['-1', '-1']);
    await admin.disconnect();
  });
});
