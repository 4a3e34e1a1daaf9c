import { createRequire } from 'node:module';
import { CompressionCodecs, CompressionTypes, type Consumer, type EachMessagePayload } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordBatch, TOKENS, type TopicRegistry } from '../../core/index.ts';
import { eventually, startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';

const require = createRequire(import.meta.url);
const lz4 = require('lz4js') as { compress(b: Uint8Array): Uint8Array; decompress(b: Uint8Array): Uint8Array };
const { ZstdCodec } = require('zstd-codec') as { ZstdCodec: { run(f: (z: { Simple: new () => { compress(b: Uint8Array): Uint8Array; decompress(b: Uint8Array): Uint8Array } }) => void): void } };

const zstd = await new Promise<{ compress(b: Uint8Array): Uint8Array; decompress(b: Uint8Array): Uint8Array }>((resolve) => ZstdCodec.run((z) => resolve(new z.Simple())));
CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy');
CompressionCodecs[CompressionTypes.LZ4] = () => ({
  compress: async (encoder: { buffer: Buffer }) => Buffer.from(lz4.compress(encoder.buffer)),
  decompress: async (buffer: Buffer) => Buffer.from(lz4.decompress(buffer)),
});
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: async (encoder: { buffer: Buffer }) => Buffer.from(zstd.compress(encoder.buffer)),
  decompress: async (buffer: Buffer) => Buffer.from(zstd.decompress(buffer)),
});

let kafka: KafkaTestBroker;
beforeAll(async () => {
  kafka = await startKafka();
});
afterAll(() => kafka.stop());

async function consumeAll(consumer: Consumer, topic: string, count: number): Promise<EachMessagePayload[]> {
  const seen: EachMessagePayload[] = [];
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async (payload) => void seen.push(payload) });
  await eventually(() => seen.length >= count, 20_000, `${count} messages from ${topic}`);
  return seen;
}

describe('kafkajs produce and consume', () => {
  it('round-trips keys, values and headers, and stores the producer\'s batches as sent', async () => {
    const client = kafka.client();
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'round-trip', numPartitions: 3 }] });
    const producer = client.producer();
    await producer.connect();
    const messages = Array.from({ length: 30 }, (_, i) => ({
      key: `key-${i % 7}`,
      value: `value-${i}`,
      headers: { trace: `t${i}`, multi: [`a${i}`, `b${i}`] },
    }));
    await producer.send({ topic: 'round-trip', messages });
    const consumer = client.consumer({ groupId: 'round-trip-group', heartbeatInterval: 200, maxWaitTimeInMs: 100 });
    await consumer.connect();
    const seen = await consumeAll(consumer, 'round-trip', 30);
    expect(seen.map((s) => s.message.value!.toString()).sort()).toEqual(messages.map((m) => m.value).sort());
    for (const { message, partition } of seen) {
      const i = Number(message.value!.toString().slice(6));
      expect(message.key!.toString()).toBe(`key-${i % 7}`);
      expect(message.headers!.trace!.toString()).toBe(`t${i}`);
      expect((message.headers!.multi as Buffer[]).map(String)).toEqual([`a${i}`, `b${i}`]);
      const sameKey = seen.filter((s) => s.message.key!.toString() === message.key!.toString());
      expect(new Set(sameKey.map((s) => s.partition))).toEqual(new Set([partition]));
    }
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  });

  it('carries every compression codec kafkajs supports, stored compressed as the producer sent it', async () => {
    const client = kafka.client();
    const producer = client.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const codecs = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD };
    for (const [name, compression] of Object.entries(codecs)) {
      const topic = `compressed-${name}`;
      await producer.send({ topic, compression, messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `${name} payload ${i} `.repeat(20) })) });
      const log = kafka.broker.get<TopicRegistry>(TOKENS.TopicRegistry).log(topic, 0)!;
      const { records } = await log.read(0, 1 << 20);
      expect(new RecordBatch(records).compression, name).toBe(compression);
      const consumer = client.consumer({ groupId: `g-${name}`, heartbeatInterval: 200, maxWaitTimeInMs: 100 });
      await consumer.connect();
      const seen = await consumeAll(consumer, topic, 20);
      expect(seen.map((s) => s.message.value!.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `${name} payload ${i} `.repeat(20)));
      await consumer.disconnect();
    }
    await producer.disconnect();
  });

  it('answers a retried idempotent batch with its original offsets', async () => {
    const client = kafka.client();
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
    await producer.connect();
    const first = await producer.send({ topic: 'idempotent', acks: -1, messages: [{ value: 'one' }, { value: 'two' }] });
    const second = await producer.send({ topic: 'idempotent', acks: -1, messages: [{ value: 'three' }] });
    expect(first[0]!.baseOffset).toBe('0');
    expect(second[0]!.baseOffset).toBe('2');
    await producer.disconnect();
  });
});
