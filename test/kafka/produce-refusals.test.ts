import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchField, crc32c, encodeRecordBatch, writeInt64 } from '../../core/index.ts';
import { ApiKeys, encodeRequest, type ProduceRequest } from '../../plugins/kafka/codec/index.ts';
import { startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';

/** Produce refusals with Kafka's codes (KafkaApis, ProduceRequest.validateRecords, UnifiedLog, LogValidator), over the wire. */
let kafka: KafkaTestBroker;
let wire: KafkaWire;
beforeAll(async () => {
  kafka = await startKafka();
  const admin = kafka.client().admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: 'refusals' },
      { topic: 'refusals-2' },
      { topic: 'stamped', configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] },
      { topic: 'small-segments', configEntries: [{ name: 'segment.bytes', value: '1024' }] },
    ],
  });
  await admin.disconnect();
  wire = await KafkaWire.connect(kafka.port);
});
afterAll(async () => {
  wire.close();
  await kafka.stop();
});

const batch = (options: Parameters<typeof encodeRecordBatch>[0] = { records: [{ value: Buffer.from('v'), timestamp: Date.now() }] }) => encodeRecordBatch(options);

/** Edits a valid batch's header, then makes its CRC right again. */
function edited(edit: (b: Buffer) => void, source = batch()): Buffer {
  const b = Buffer.from(source);
  edit(b);
  b.writeUInt32BE(crc32c(b, BatchField.attributes, b.length), BatchField.crc);
  return b;
}

const request = (partitions: Array<[string, Buffer | null]>, acks = -1, transactionalId: string | null = null): ProduceRequest => ({
  transactionalId,
  acks,
  timeoutMs: 5000,
  topicData: partitions.map(([name, records]) => ({ name, partitionData: [{ index: 0, records }] })),
});

async function produce(partitions: Array<[string, Buffer | null]>, options: { version?: number; acks?: number; transactionalId?: string | null } = {}) {
  const response = await wire.request(ApiKeys.Produce, options.version ?? 7, request(partitions, options.acks, options.transactionalId ?? null));
  return response.responses.map((t) => t.partitionResponses[0]!);
}
const codeOf = async (records: Buffer | null, options: { version?: number; topic?: string; acks?: number } = {}) => (await produce([[options.topic ?? 'refusals', records]], options))[0]!.errorCode;

describe('Produce refusals, as Kafka answers them', () => {
  it('answers each malformed partition with Kafka\'s code', async () => {
    expect(await codeOf(Buffer.alloc(0))).toBe(87);
    expect(await codeOf(Buffer.alloc(11))).toBe(87);
    expect(await codeOf(batch().subarray(0, 40))).toBe(87);
    expect(await codeOf(edited((b) => b.writeInt8(1, BatchField.magic)))).toBe(87);
    expect(await codeOf(edited((b) => writeInt64(b, BatchField.baseOffset, 5)))).toBe(87);
    expect(await codeOf(edited((b) => writeInt64(b, BatchField.producerId, 7)))).toBe(87);
    expect(await codeOf(edited((b) => b.writeInt16BE(4, BatchField.attributes)), { version: 3 })).toBe(76);
    expect(await codeOf(edited((b) => b.writeInt16BE(0x08, BatchField.attributes), batch({ records: [{ value: null }], timestamp: -1 })))).toBe(32);
    expect(await codeOf(edited((b) => b.writeInt16BE(0x08, BatchField.attributes)), { topic: 'stamped' })).toBe(32);
    expect(await codeOf(batch({ records: [{ value: Buffer.alloc(1100) }] }), { topic: 'small-segments' })).toBe(18);
    const corrupt = batch();
    corrupt[corrupt.length - 1]! ^= 0xff;
    expect(await codeOf(corrupt)).toBe(2);
  });

  it('drops bytes after the batch that make no whole batch, as Kafka trims them, and stores the batch alone', async () => {
    const [first] = await produce([['refusals-2', Buffer.concat([batch({ records: [{ value: Buffer.from('a'), timestamp: 1000 }] }), Buffer.from([0, 0, 0])])]]);
    expect(first!.errorCode).toBe(0);
    const [second] = await produce([['refusals-2', batch({ records: [{ value: Buffer.from('b'), timestamp: 2000 }] })]]);
    expect(second!.baseOffset).toBe(first!.baseOffset + 1);
    const listed = await wire.request(ApiKeys.ListOffsets, 1, {
      replicaId: -1,
      isolationLevel: 0,
      timeoutMs: 0,
      topics: [{ name: 'refusals-2', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: 1500, maxNumOffsets: 1 }] }],
    });
    expect(listed.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, offset: second!.baseOffset, timestamp: 2000 });
  });

  it('answers the whole request for an unreadable header, transactional records or an unknown codec, and appends nothing', async () => {
    const end = async () => (await kafka.client().admin().fetchTopicOffsets('refusals-2').catch(() => [{ high: '?' }]))[0]!.high;
    const before = await end();
    const cases: Array<[Buffer, number]> = [
      [edited((b) => b.writeInt8(5, BatchField.magic)), 2],
      [edited((b) => b.writeInt32BE(13, BatchField.batchLength)), 2],
      [edited((b) => b.writeInt16BE(0x10, BatchField.attributes)), 53],
      [edited((b) => b.writeInt16BE(7, BatchField.attributes)), -1],
    ];
    for (const [bad, code] of cases) {
      expect((await produce([['refusals-2', batch()], ['refusals', bad]])).map((p) => p.errorCode)).toEqual([code, code]);
    }
    expect(await end()).toBe(before);
    expect((await produce([['refusals', batch()]], { transactionalId: 'not-transactional-records' }))[0]!.errorCode).toBe(0);
  });

  it('answers INVALID_REQUIRED_ACKS for acks other than -1, 0 and 1', async () => {
    expect(await codeOf(batch(), { acks: 2 })).toBe(21);
  });

  it('closes an acks=0 producer\'s connection on a refusal, after answering the requests before it', async () => {
    const producer = await KafkaWire.connect(kafka.port);
    producer.send(encodeRequest(ApiKeys.Produce, 7, 1, 'acks0', request([['refusals', batch()]], 0)));
    producer.send(encodeRequest(ApiKeys.ApiVersions, 2, 2, 'acks0', { clientSoftwareName: '', clientSoftwareVersion: '' }));
    producer.send(encodeRequest(ApiKeys.Produce, 7, 3, 'acks0', request([['refusals', edited((b) => writeInt64(b, BatchField.baseOffset, 9))]], 0)));
    const reply = await producer.nextFrame();
    expect(reply.readInt32BE(0)).toBe(2);
    await producer.closed;
  });
});
