import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../../core/index.ts';
import { ApiKeys, defaultFetchRequest, defaultFetchRequestFetchPartition, defaultFetchRequestFetchTopic } from '../../plugins/kafka/codec/index.ts';
import { KafkaError } from '../../plugins/kafka/error-codes.ts';
import { startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function broker(options: Parameters<typeof startKafka>[0] = {}): Promise<KafkaTestBroker> {
  const kafka = await startKafka(options);
  cleanups.push(() => kafka.stop());
  return kafka;
}

async function wireTo(kafka: KafkaTestBroker): Promise<KafkaWire> {
  const wire = await KafkaWire.connect(kafka.port);
  cleanups.push(() => wire.close());
  return wire;
}

type Entity = Array<{ entityType: string; entityName: string | null }>;
const alter = (wire: KafkaWire, entries: Array<{ entity: Entity; ops: Array<{ key: string; value: number; remove?: boolean }> }>, validateOnly = false) =>
  wire.request(ApiKeys.AlterClientQuotas, 1, { entries: entries.map((e) => ({ entity: e.entity, ops: e.ops.map((o) => ({ remove: false, ...o })) })), validateOnly });
const describeQuotas = (wire: KafkaWire, components: Array<{ entityType: string; matchType: number; match: string | null }>, strict = false) =>
  wire.request(ApiKeys.DescribeClientQuotas, 1, { components, strict });
const described = (response: Awaited<ReturnType<typeof describeQuotas>>) =>
  response.entries!.map((e) => [Object.fromEntries(e.entity.map((p) => [p.entityType, p.entityName])), Object.fromEntries(e.values.map((v) => [v.key, v.value]))]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

const client = (name: string | null): Entity => [{ entityType: 'client-id', entityName: name }];
const user = (name: string | null): Entity => [{ entityType: 'user', entityName: name }];

describe('Kafka client quotas (DescribeClientQuotas / AlterClientQuotas)', () => {
  it('stores quotas durably, validates them as Kafka does, and describes them by filter', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-quotas-'));
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    let kafka = await broker({ dataDir });
    let wire = await wireTo(kafka);
    const altered = await alter(wire, [
      { entity: client('slow'), ops: [{ key: 'producer_byte_rate', value: 1024 }] },
      { entity: [...user('alice'), ...client(null)], ops: [{ key: 'consumer_byte_rate', value: 2048 }, { key: 'request_percentage', value: 12.5 }] },
      { entity: user(null), ops: [{ key: 'producer_byte_rate', value: 4096 }] },
      { entity: client('fractional'), ops: [{ key: 'producer_byte_rate', value: 1.5 }] },
      { entity: client('unknown-key'), ops: [{ key: 'fetch_byte_rate', value: 1 }] },
      { entity: client('zero'), ops: [{ key: 'consumer_byte_rate', value: 0 }] },
      { entity: [{ entityType: 'ip', entityName: '10.0.0.1' }, ...user('bob')], ops: [{ key: 'connection_creation_rate', value: 5 }] },
      { entity: [{ entityType: 'group', entityName: 'g' }], ops: [{ key: 'producer_byte_rate', value: 5 }] },
      { entity: client('twice'), ops: [{ key: 'producer_byte_rate', value: 5 }, { key: 'producer_byte_rate', value: 6 }] },
    ]);
    expect(altered.entries.map((e) => e.errorCode)).toEqual([0, 0, 0, ...Array(6).fill(KafkaError.INVALID_REQUEST)]);
    expect(altered.entries[3]!.errorMessage).toBe('producer_byte_rate cannot be a fractional value.');
    // validateOnly changes nothing.
    expect((await alter(wire, [{ entity: client('dry'), ops: [{ key: 'producer_byte_rate', value: 1 }] }], true)).entries[0]!.errorCode).toBe(0);
    await kafka.stop();
    cleanups.splice(0);
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));

    kafka = await broker({ dataDir });
    wire = await wireTo(kafka);
    expect(described(await describeQuotas(wire, []))).toEqual([
      [{ 'client-id': 'slow' }, { producer_byte_rate: 1024 }],
      [{ user: 'alice', 'client-id': null }, { consumer_byte_rate: 2048, request_percentage: 12.5 }],
      [{ user: null }, { producer_byte_rate: 4096 }],
    ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));
    expect(described(await describeQuotas(wire, [{ entityType: 'user', matchType: 0, match: 'alice' }]))).toEqual([[{ user: 'alice', 'client-id': null }, { consumer_byte_rate: 2048, request_percentage: 12.5 }]]);
    expect(described(await describeQuotas(wire, [{ entityType: 'user', matchType: 2, match: null }], true))).toEqual([[{ user: null }, { producer_byte_rate: 4096 }]]);
    expect(described(await describeQuotas(wire, [{ entityType: 'user', matchType: 1, match: null }]))).toEqual([[{ user: null }, { producer_byte_rate: 4096 }]]);
    const bad = await describeQuotas(wire, [{ entityType: 'ip', matchType: 2, match: null }, { entityType: 'user', matchType: 2, match: null }]);
    expect([bad.errorCode, bad.entries]).toEqual([KafkaError.INVALID_REQUEST, null]);

    // Removing the last key removes the entity.
    await alter(wire, [{ entity: client('slow'), ops: [{ key: 'producer_byte_rate', value: 0, remove: true }] }]);
    expect(described(await describeQuotas(wire, [{ entityType: 'client-id', matchType: 0, match: 'slow' }]))).toEqual([]);
  });

  it('throttles a producer over its producer_byte_rate: throttle_time_ms in the response, then a muted connection (KIP-219)', async () => {
    const kafka = await broker();
    const admin = kafka.client().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'quota', numPartitions: 1 }] });
    await admin.disconnect();
    const wire = await wireTo(kafka);
    // KafkaWire's client id is wire-test.
    await alter(wire, [{ entity: client('wire-test'), ops: [{ key: 'producer_byte_rate', value: 100_000 }] }]);
    const batch = encodeRecordBatch({ records: [{ value: Buffer.alloc(100_000, 1) }] });
    const produce = { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'quota', partitionData: [{ index: 0, records: batch }] }] };
    // Kafka's window counts at least 10 one-second samples: about 1 MB goes through before the throttle.
    const throttles: number[] = [];
    for (let i = 0; i < 12; i++) throttles.push((await wire.request(ApiKeys.Produce, 9, produce)).throttleTimeMs);
    expect(throttles.slice(0, 9)).toEqual(Array(9).fill(0));
    const throttled = throttles.findIndex((t) => t > 0);
    expect(throttled).toBeGreaterThan(8);
    const throttle = throttles[throttles.length - 1]!;
    expect(throttle).toBeGreaterThan(0);
    // The next request is not read until the throttle ends.
    const started = Date.now();
    await wire.request(ApiKeys.Produce, 9, produce);
    expect(Date.now() - started).toBeGreaterThanOrEqual(throttle - 20);
  });

  it('does not take a throttled client for a stalled one: a request it was sending when muted completes after the throttle', async () => {
    const kafka = await broker({ kafka: { stalledRequestTimeoutMs: 300 } });
    const admin = kafka.client().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'muted', numPartitions: 1 }] });
    await admin.disconnect();
    const wire = await wireTo(kafka);
    await alter(wire, [{ entity: client('wire-test'), ops: [{ key: 'producer_byte_rate', value: 10_000 }] }]);
    const produce = { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'muted', partitionData: [{ index: 0, records: encodeRecordBatch({ records: [{ value: Buffer.alloc(110_000, 1) }] }) }] }] };
    // 110 KB at 10 KB/s over a 10 s window: about a second of throttle, earned by the first request while the
    // start of the second, in the same segment, is already read.
    const first = Buffer.concat(wire.encode(ApiKeys.Produce, 9, produce));
    const next = Buffer.concat(wire.encode(ApiKeys.Produce, 9, produce));
    wire.send(Buffer.concat([first, next.subarray(0, 1000)]));
    expect((await wire.response(ApiKeys.Produce, 9)).throttleTimeMs).toBeGreaterThan(500);
    await new Promise((resolve) => setTimeout(resolve, 600));
    wire.send(next.subarray(1000));
    const second = await Promise.race([wire.response(ApiKeys.Produce, 9), wire.closed.then(() => undefined)]);
    expect(second?.responses[0]!.partitionResponses[0]!.errorCode).toBe(KafkaError.NONE);
  });

  it('holds a kafkajs producer to its client-id quota while an unlimited one goes at full speed', async () => {
    const kafka = await broker();
    const admin = kafka.client().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'rates', numPartitions: 1 }] });
    await admin.disconnect();
    const wire = await wireTo(kafka);
    await alter(wire, [{ entity: client('slow-producer'), ops: [{ key: 'producer_byte_rate', value: 100_000 }] }]);
    const sendMegabytes = async (clientId: string): Promise<number> => {
      const producer = kafka.client({ clientId }).producer();
      await producer.connect();
      const started = Date.now();
      for (let i = 0; i < 13; i++) await producer.send({ topic: 'rates', acks: 1, messages: [{ value: Buffer.alloc(100_000, i) }] });
      const elapsed = Date.now() - started;
      await producer.disconnect();
      return elapsed;
    };
    const fast = await sendMegabytes('fast-producer');
    const slow = await sendMegabytes('slow-producer');
    // 1.3 MB at 100 KB/s, the first 1 MB of it within Kafka's window: about 3 s.
    expect(slow).toBeGreaterThan(2_000);
    expect(fast).toBeLessThan(slow / 2);
  });

  it('answers a consumer over its consumer_byte_rate with an empty throttled fetch and caps responses at the quota window', async () => {
    const kafka = await broker();
    const admin = kafka.client().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'reads', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.client().producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    for (let i = 0; i < 4; i++) await producer.send({ topic: 'reads', messages: [{ value: Buffer.alloc(60_000, i) }] });
    const wire = await wireTo(kafka);
    await alter(wire, [{ entity: client('wire-test'), ops: [{ key: 'consumer_byte_rate', value: 10_000 }] }]);
    const fetchFrom = (fetchOffset: number) => ({
      ...defaultFetchRequest(),
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      sessionEpoch: -1,
      topics: [{ ...defaultFetchRequestFetchTopic(), topic: 'reads', partitions: [{ ...defaultFetchRequestFetchPartition(), partition: 0, fetchOffset, partitionMaxBytes: 1 << 20 }] }],
    });
    // A window holds 100 KB at 10 KB/s: the response stops after the first batch past it would not fit.
    const first = await wire.request(ApiKeys.Fetch, 12, fetchFrom(0));
    expect(first.throttleTimeMs).toBe(0);
    expect((first.responses[0]!.partitions[0]!.records as Buffer).length).toBeLessThan(130_000);
    const second = await wire.request(ApiKeys.Fetch, 12, fetchFrom(2));
    expect(second.throttleTimeMs).toBeGreaterThan(0);
    expect(second.responses).toEqual([]);
  });
});
