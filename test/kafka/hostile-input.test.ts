import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../../core/index.ts';
import { ApiKeys, decodeResponse, encodeRequest } from '../../plugins/kafka/codec/index.ts';
import { startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';

let kafka: KafkaTestBroker;
beforeAll(async () => {
  kafka = await startKafka({ kafka: { maxRequestBytes: 1024 * 1024 } });
  const admin = kafka.client().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'wire', numPartitions: 1 }] });
  await admin.disconnect();
});
afterAll(() => kafka.stop());

const produce = (batch: Buffer) => ({
  transactionalId: null,
  acks: -1,
  timeoutMs: 5000,
  topicData: [{ name: 'wire', partitionData: [{ index: 0, records: batch }] }],
});

async function stillServing(): Promise<void> {
  const admin = kafka.client().admin();
  await admin.connect();
  expect(await admin.listTopics()).toContain('wire');
  await admin.disconnect();
}

describe('the Kafka listener under hostile input', () => {
  it('closes the connection on garbage, absurd sizes, truncated and undecodable frames, and keeps serving others', async () => {
    const attacks: Buffer[] = [
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]),
      Buffer.from([0xff, 0xff, 0xff, 0xf0]),
      Buffer.concat([Buffer.from([0, 0, 0, 12]), Buffer.from([0, 3, 0, 5, 0, 0, 0, 1, 0x7f, 0xff, 0, 0])]),
      Buffer.concat([Buffer.from([0, 0, 0, 10]), Buffer.from([0x03, 0xe7, 0, 0, 0, 0, 0, 1, 0xff, 0xff])]),
      Buffer.concat([Buffer.from([0, 0, 0, 14]), Buffer.from([0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff])]),
    ];
    for (const attack of attacks) {
      const wire = await KafkaWire.connect(kafka.port);
      wire.send(attack);
      await wire.closed;
    }
    const before = process.memoryUsage().arrayBuffers;
    const truncated = await KafkaWire.connect(kafka.port);
    truncated.send(Buffer.from([0, 0, 0x10, 0, 0, 3]));
    truncated.close();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
    await stillServing();
  });

  it('answers a resent idempotent batch with its original offsets instead of appending it twice', async () => {
    const wire = await KafkaWire.connect(kafka.port);
    const { producerId, producerEpoch } = await wire.request(ApiKeys.InitProducerId, 1, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    expect(producerId).toBeGreaterThanOrEqual(0);
    const batch = () => encodeRecordBatch({ producerId, producerEpoch, baseSequence: 0, records: [{ value: Buffer.from('a') }, { value: Buffer.from('b') }] });
    const first = await wire.request(ApiKeys.Produce, 7, produce(batch()));
    const again = await wire.request(ApiKeys.Produce, 7, produce(batch()));
    const [p1, p2] = [first.responses[0]!.partitionResponses[0]!, again.responses[0]!.partitionResponses[0]!];
    expect(p1.errorCode).toBe(0);
    expect(p2.errorCode).toBe(0);
    expect(p2.baseOffset).toBe(p1.baseOffset);
    const next = encodeRecordBatch({ producerId, producerEpoch, baseSequence: 2, records: [{ value: Buffer.from('c') }] });
    const third = await wire.request(ApiKeys.Produce, 7, produce(next));
    expect(third.responses[0]!.partitionResponses[0]!.baseOffset).toBe(p1.baseOffset + 2);
    const gap = encodeRecordBatch({ producerId, producerEpoch, baseSequence: 9, records: [{ value: Buffer.from('x') }] });
    expect((await wire.request(ApiKeys.Produce, 7, produce(gap))).responses[0]!.partitionResponses[0]!.errorCode).toBe(45);
    wire.close();
  });

  it('rejects corrupt batches with CORRUPT_MESSAGE and keeps the connection', async () => {
    const wire = await KafkaWire.connect(kafka.port);
    const corrupt = encodeRecordBatch({ records: [{ value: Buffer.from('payload') }] });
    corrupt[corrupt.length - 1]! ^= 0xff;
    const response = await wire.request(ApiKeys.Produce, 7, produce(corrupt));
    expect(response.responses[0]!.partitionResponses[0]!.errorCode).toBe(2);
    const two = Buffer.concat([encodeRecordBatch({ records: [{ value: Buffer.from('1') }] }), encodeRecordBatch({ records: [{ value: Buffer.from('2') }] })]);
    expect((await wire.request(ApiKeys.Produce, 7, produce(two))).responses[0]!.partitionResponses[0]!.errorCode).toBe(87);
    wire.close();
  });

  it('speaks ApiVersions v3 as librdkafka opens and v4 as Kafka 3.9, and answers an unknown version with a v0 UNSUPPORTED_VERSION reply', async () => {
    const wire = await KafkaWire.connect(kafka.port);
    const v3 = await wire.request(ApiKeys.ApiVersions, 3, { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' });
    expect(v3.errorCode).toBe(0);
    expect(v3.apiKeys.find((k) => k.apiKey === 0)).toEqual({ apiKey: 0, minVersion: 3, maxVersion: 11 });
    const v4 = await wire.request(ApiKeys.ApiVersions, 4, { clientSoftwareName: 'apache-kafka-java', clientSoftwareVersion: '3.9.0' });
    expect(v4.apiKeys.find((k) => k.apiKey === 1)).toEqual({ apiKey: 1, minVersion: 4, maxVersion: 17 });
    wire.send(encodeRequest(ApiKeys.ApiVersions, 5, 77, 'future', { clientSoftwareName: 'x', clientSoftwareVersion: 'y' }));
    const reply = decodeResponse(ApiKeys.ApiVersions, 0, await wire.nextFrame());
    expect(reply.correlationId).toBe(77);
    expect(reply.body.errorCode).toBe(35);
    expect(reply.body.apiKeys).toEqual([{ apiKey: 18, minVersion: 0, maxVersion: 4 }]);
    wire.close();
  });
});
