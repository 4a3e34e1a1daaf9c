import fs from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRecords, RecordBatch } from '../core/index.ts';
import { ApiKeys, defaultFetchRequest, defaultFetchRequestFetchPartition, defaultFetchRequestFetchTopic } from '../plugins/kafka/codec/index.ts';
import { KafkaWire } from './helpers/kafka-wire.ts';
import { hasProgram } from './helpers/programs.ts';
import { startBrokerProcess, type BrokerProcess } from './helpers/spawn.ts';
import { tempDir } from './helpers/temp-dir.ts';

const PARTITIONS = 1500;
const NOFILE = '512';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(dir: string): Promise<BrokerProcess> {
  const broker = await startBrokerProcess(['--storage', 'fs', '--data-dir', dir, '--amqp-port', '0', '--rocket-port', '0', '--stream-port', '0'], { nofile: NOFILE, timeoutMs: 120_000 });
  cleanups.push(() => broker.stop());
  return broker;
}

/** The value of every record of every partition of `topic`, by partition, read with one raw Fetch from offset 0. */
async function readAll(port: number, topic: string): Promise<string[][]> {
  const wire = await KafkaWire.connect(port);
  try {
    const partitions = Array.from({ length: PARTITIONS }, (_, partition) => ({ ...defaultFetchRequestFetchPartition(), partition, fetchOffset: 0, partitionMaxBytes: 4096 }));
    const request = { ...defaultFetchRequest(), maxWaitMs: 0, minBytes: 0, maxBytes: 64 << 20, topics: [{ ...defaultFetchRequestFetchTopic(), topic, partitions }] };
    const response = await wire.request(ApiKeys.Fetch, 11, request);
    const values: string[][] = Array.from({ length: PARTITIONS }, () => []);
    for (const partition of response.responses[0]!.partitions) {
      expect(partition.errorCode).toBe(0);
      const records = partition.records as Buffer;
      for (let pos = 0; pos < records.length; pos += new RecordBatch(records, pos).sizeInBytes) {
        for (const record of decodeRecords(new RecordBatch(records, pos).bytes)) values[partition.partitionIndex]!.push(record.value!.toString());
      }
    }
    return values;
  } finally {
    wire.close();
  }
}

async function produceRound(port: number, topic: string, round: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'fd-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, timeout: 60_000, messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value: `r${round}-p${partition}` })) });
  } finally {
    await producer.disconnect();
  }
}

const expected = (rounds: number) => Array.from({ length: PARTITIONS }, (_, p) => Array.from({ length: rounds }, (_, r) => `r${r}-p${p}`));

function descriptorsOf(broker: BrokerProcess): number {
  return fs.readdirSync(`/proc/${broker.child.pid}/fd`).length;
}

describe.runIf(hasProgram('prlimit', 'the storage-fs descriptor test'))('storage-fs under an open-file limit (a broker process under prlimit --nofile=512)', () => {
  it(`creates, writes and reads ${PARTITIONS} partitions, more than the limit allows descriptors, across a restart`, async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    let broker = await start(dir.path);
    expect(broker.ready).toMatch(/storage fs .* \| connections max \d+ \(open files 512\)/);
    const port = broker.port('kafka');
    const admin = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic: 'wide', numPartitions: PARTITIONS }], timeout: 120_000 })).toBe(true);
    } finally {
      await admin.disconnect();
    }
    await produceRound(port, 'wide', 0);
    expect(await readAll(port, 'wide')).toEqual(expected(1));
    expect(descriptorsOf(broker)).toBeLessThan(200);

    expect(await broker.stop()).toBe(0);
    expect(broker.log()).not.toMatch(/EMFILE|too many open files/i);
    broker = await start(dir.path);
    const again = broker.port('kafka');
    expect(await readAll(again, 'wide')).toEqual(expected(1));
    await produceRound(again, 'wide', 1);
    expect(await readAll(again, 'wide')).toEqual(expected(2));
    expect(descriptorsOf(broker)).toBeLessThan(200);
    expect(broker.log()).not.toMatch(/EMFILE|too many open files/i);
  }, 300_000);
});
