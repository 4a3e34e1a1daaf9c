import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('Kafka topic retention and deletion on storage-fs', () => {
  it('deletes expired segments in the background per the topic\'s retention.ms, and a deleted topic releases its files', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const kafka: KafkaTestBroker = await startKafka({ dataDir: dir.path, topics: { retentionCheckIntervalMs: 100 } });
    cleanups.push(() => kafka.stop());
    const client = kafka.client();
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: 'short-lived', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '1000' }, { name: 'segment.bytes', value: '1024' }] },
        { topic: 'kept', numPartitions: 1 },
      ],
    });
    const producer = client.producer();
    await producer.connect();
    const old = String(Date.now() - 60_000);
    for (let i = 0; i < 20; i++) await producer.send({ topic: 'short-lived', messages: [{ value: 'x'.repeat(200), timestamp: old }] });
    await producer.send({ topic: 'kept', messages: [{ value: 'x', timestamp: old }] });
    await eventually(async () => (await admin.fetchTopicOffsets('short-lived'))[0]!.low === '20', 10_000, 'the expired segments to go');
    expect(await admin.fetchTopicOffsets('kept')).toEqual([{ partition: 0, offset: '1', high: '1', low: '0' }]);

    expect(fs.existsSync(path.join(dir.path, 'kept-0'))).toBe(true);
    await admin.deleteTopics({ topics: ['kept'] });
    expect(fs.existsSync(path.join(dir.path, 'kept-0'))).toBe(false);
    await producer.disconnect();
    await admin.disconnect();
  });
});
