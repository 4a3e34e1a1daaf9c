import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.ts';
import { eventually } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { wharfCli, wharfJson, wharfOk } from './wharf-cli.ts';

interface TopicJson {
  partitions: Array<{ partition: number; log_start_offset: number; high_watermark: number; log_end_offset: number }>;
  configs: Array<{ name: string; value: string; source: string }>;
}

interface GroupJson {
  state: string;
  members: Array<{ member_id: string; client_id: string; assignment: Array<{ topic: string; partitions: number[] }> }>;
  offsets: Array<{ topic: string; partition: number; committed_offset: number; high_watermark: number; lag: number }>;
}

describe('wharf topics/groups (Kafka) against a broker process, with kafkajs', () => {
  const dir = tempDir();
  let broker: BrokerProcess;
  let kafka: Kafka;
  beforeAll(async () => {
    broker = await startBrokerProcess(dir.path, ['--kafka-auto-create-topics', 'false']);
    kafka = new Kafka({ clientId: 'cli-test', brokers: [`127.0.0.1:${broker.ports.kafka}`], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
    dir.remove();
  });

  it('creates a topic kafkajs produces to; describe shows its offsets; a group\'s lag shows in groups describe and list; groups delete refuses a group with members, then deletes it with its offsets; delete removes the topic', async () => {
    const http = broker.ports.http!;
    expect(await wharfOk(http, ['topics', 'create', 'events', '--partitions', '2', '--config', 'retention.ms=3600000'])).toBe('Created Kafka topic events.\n');
    const [again, idempotent] = await Promise.all([
      wharfCli(['topics', 'create', 'events', '--server', `http://127.0.0.1:${http}`]),
      wharfCli(['topics', 'create', 'events', '--if-not-exists', '--server', `http://127.0.0.1:${http}`]),
    ]);
    expect(again).toMatchObject({ code: 1, stderr: 'wharf: Kafka topic events: topic events already exists (HTTP 409)\n' });
    expect(idempotent).toEqual({ code: 0, stdout: 'Kafka topic events exists already.\n', stderr: '' });

    const producer = kafka.producer();
    await producer.connect();
    const send = (partition: number, n: number) => producer.send({ topic: 'events', messages: Array.from({ length: n }, (_, i) => ({ partition, value: `p${partition}-${i}` })) });
    await send(0, 5);
    await send(1, 3);

    const topic = await wharfJson<TopicJson>(http, ['topics', 'describe', 'events']);
    expect(topic.partitions.map((p) => [p.partition, p.log_start_offset, p.high_watermark, p.log_end_offset])).toEqual([
      [0, 0, 5, 5],
      [1, 0, 3, 3],
    ]);
    expect(topic.configs).toContainEqual({ name: 'retention.ms', value: '3600000', source: 'topic' });
    const described = await wharfOk(http, ['topics', 'describe', 'events']);
    expect(described).toMatch(/^Configs: +retention\.ms=3600000$/m);
    expect(described).toMatch(/^PARTITION +LEADER +EPOCH +REPLICAS +ISR +LOG-START-OFFSET +HIGH-WATERMARK +LOG-END-OFFSET +BYTES +SEGMENTS$/m);
    expect(described).toMatch(/^ +0 +1 +0 +1 +1 +0 +5 +5 +\d+ B +1$/m);
    expect(described).toMatch(/^ +1 +1 +0 +1 +1 +0 +3 +3 +\d+ B +1$/m);

    const consumer = kafka.consumer({ groupId: 'readers', sessionTimeout: 10_000 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'events', fromBeginning: true });
    let consumed = 0;
    await consumer.run({ eachMessage: async () => void consumed++ });
    const admin = kafka.admin();
    await admin.connect();
    await eventually(async () => {
      const [committed] = await admin.fetchOffsets({ groupId: 'readers', topics: ['events'] });
      return committed!.partitions.map((p) => p.offset).sort().join() === '3,5';
    }, 20_000, 'the group to commit every offset');
    consumer.pause([{ topic: 'events' }]);
    await send(0, 2);
    await send(1, 1);

    const group = await wharfJson<GroupJson>(http, ['groups', 'describe', 'readers']);
    expect(group.state).toBe('Stable');
    expect(group.offsets.map((o) => [o.partition, o.committed_offset, o.high_watermark, o.lag]).sort()).toEqual([
      [0, 5, 7, 2],
      [1, 3, 4, 1],
    ]);
    expect(group.members).toHaveLength(1);
    expect(group.members[0]!.assignment).toEqual([{ topic: 'events', partitions: [0, 1] }]);
    const memberId = group.members[0]!.member_id;
    const text = await wharfOk(http, ['groups', 'describe', 'readers']);
    expect(text).toMatch(/^Lag: +3$/m);
    expect(text).toMatch(/^TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID +HOST +CLIENT-ID$/m);
    expect(text).toMatch(new RegExp(`^events +0 +5 +7 +2 +${memberId} +/127\\.0\\.0\\.1 +cli-test$`, 'm'));
    expect(text).toMatch(new RegExp(`^events +1 +3 +4 +1 +${memberId} +/127\\.0\\.0\\.1 +cli-test$`, 'm'));
    expect(await wharfOk(http, ['groups', 'list'])).toMatch(/^readers +Stable +consumer +1 +3$/m);

    expect(await wharfCli(['groups', 'delete', 'readers', '--server', `http://127.0.0.1:${http}`])).toMatchObject({ code: 1, stderr: 'wharf: Kafka group readers: group readers still has members (HTTP 409)\n' });
    await consumer.disconnect();
    expect(await wharfOk(http, ['groups', 'delete', 'readers'])).toBe('Deleted Kafka group readers.\n');
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain('readers');
    expect((await admin.fetchOffsets({ groupId: 'readers', topics: ['events'] }))[0]!.partitions.map((p) => p.offset)).toEqual(['-1', '-1']);
    expect(await wharfCli(['groups', 'delete', 'readers', '--server', `http://127.0.0.1:${http}`])).toMatchObject({ code: 5 });
    await producer.disconnect();
    expect(await wharfOk(http, ['topics', 'delete', 'events'])).toBe('Deleted Kafka topic events.\n');
    expect(await admin.listTopics()).not.toContain('events');
    await admin.disconnect();
    expect(await wharfOk(http, ['topics', 'list'])).toBe('no Kafka topics\n');
  }, 90_000);
});
