import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';

let kafka: KafkaTestBroker | undefined;
afterEach(async () => {
  await kafka?.stop();
  kafka = undefined;
});

interface Member {
  consumer: Consumer;
  assigned: number[];
  seen: EachMessagePayload[];
}

async function member(client: Kafka, groupId: string, topic: string): Promise<Member> {
  const consumer = client.consumer({ groupId, heartbeatInterval: 100, sessionTimeout: 6000, rebalanceTimeout: 6000, maxWaitTimeInMs: 100 });
  const m: Member = { consumer, assigned: [], seen: [] };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    m.assigned = (e.payload.memberAssignment[topic] ?? []).slice().sort((a, b) => a - b);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async (payload) => void m.seen.push(payload) });
  return m;
}

function coverage(members: Member[]): number[] {
  return members.flatMap((m) => m.assigned).sort((a, b) => a - b);
}

describe('kafkajs consumer groups', () => {
  it('rebalances a group of three when one leaves and when partitions are added', async () => {
    kafka = await startKafka();
    const client = kafka.client();
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'grouped', numPartitions: 6 }] });
    const members = [await member(client, 'trio', 'grouped'), await member(client, 'trio', 'grouped'), await member(client, 'trio', 'grouped')];
    await eventually(() => coverage(members).join() === '0,1,2,3,4,5' && members.every((m) => m.assigned.length === 2), 20_000, 'three members with two partitions each');

    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'grouped', messages: Array.from({ length: 60 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await eventually(() => members.reduce((n, m) => n + m.seen.length, 0) === 60, 20_000, 'all messages consumed once');

    await members[2]!.consumer.disconnect();
    const remaining = members.slice(0, 2);
    await eventually(() => coverage(remaining).join() === '0,1,2,3,4,5', 20_000, 'two members covering six partitions after one left');
    expect(remaining.map((m) => m.assigned.length)).toEqual([3, 3]);

    await admin.createPartitions({ topicPartitions: [{ topic: 'grouped', count: 8 }] });
    await eventually(() => coverage(remaining).join() === '0,1,2,3,4,5,6,7', 20_000, 'the new partitions assigned');

    const description = await admin.describeGroups(['trio']);
    expect(description.groups[0]!.state).toBe('Stable');
    expect(description.groups[0]!.members).toHaveLength(2);
    for (const m of remaining) await m.consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  });

  it('lets the broker assign with Sticky for kafkajs consumers (server-side assignment)', async () => {
    kafka = await startKafka({ kafka: { groupAssignment: 'server' }, groups: { assignor: 'sticky' } });
    const client = kafka.client();
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'sticky', numPartitions: 9 }] });
    const members = [await member(client, 'sticky-group', 'sticky'), await member(client, 'sticky-group', 'sticky'), await member(client, 'sticky-group', 'sticky')];
    await eventually(() => coverage(members).join() === '0,1,2,3,4,5,6,7,8' && members.every((m) => m.assigned.length === 3), 20_000, 'three members with three partitions each');
    const before = members.map((m) => [...m.assigned]);

    await members[1]!.consumer.disconnect();
    const remaining = [members[0]!, members[2]!];
    await eventually(() => coverage(remaining).join() === '0,1,2,3,4,5,6,7,8', 20_000, 'two members covering nine partitions');
    for (const [i, m] of remaining.entries()) {
      const previously = before[i === 0 ? 0 : 2]!;
      for (const p of previously) expect(m.assigned, `member ${i} kept ${p}`).toContain(p);
    }
    expect(remaining.map((m) => m.assigned.length).sort()).toEqual([4, 5]);
    const group = (await admin.describeGroups(['sticky-group'])).groups[0]!;
    expect(group.protocol).toBe('RoundRobinAssigner');
    for (const m of remaining) await m.consumer.disconnect();
    await admin.disconnect();
  });
});
