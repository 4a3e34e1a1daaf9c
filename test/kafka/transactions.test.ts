import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MetadataLog, SegmentedStorageEngine, SingleNodeReplicator, TOKENS, createRootLogger, encodeRecordBatch, systemClock, type TopicRegistry } from '../../core/index.ts';
import { FsSegmentStore } from '../../plugins/storage-fs/index.ts';
import { TRANSACTION_LOG } from '../../plugins/kafka/transactions/transaction-coordinator.ts';
import { ApiKeys } from '../../plugins/kafka/codec/index.ts';
import { eventually, startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';
import { addAcls, addUser, startSecureKafka, topicAcl } from '../helpers/security.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';
import { hasProgram, runProgram } from '../helpers/programs.ts';
import { exitCode, onLines, ROOT, waitForLine } from '../helpers/spawn.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const CLIENT = path.join(ROOT, 'test/fixtures/txn-client.py');
const hasConfluent = hasProgram('confluent-kafka', 'the confluent-kafka transaction tests');

const brokers: KafkaTestBroker[] = [];
const children: ChildProcess[] = [];
const dirs: Array<{ remove(): void }> = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) (child.kill('SIGKILL'), await exitCode(child));
  for (const broker of brokers.splice(0)) await broker.stop();
  for (const dir of dirs.splice(0)) dir.remove();
});

async function start(options: Parameters<typeof startKafka>[0] = {}): Promise<KafkaTestBroker> {
  const broker = await startKafka(options);
  brokers.push(broker);
  return broker;
}

async function createTopic(broker: KafkaTestBroker, topic: string, numPartitions = 2): Promise<void> {
  const admin = broker.client().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
  await admin.disconnect();
}

const client = (args: readonly string[], timeoutMs = 60_000): Promise<string> => runProgram('/usr/bin/python3', [CLIENT, ...args], { timeoutMs });

function spawnClient(args: readonly string[]): ChildProcess {
  const child = spawn('/usr/bin/python3', [CLIENT, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

/** The values a consumer of the given isolation level reads to the end, and the end offsets (ListOffsets latest) it is told. */
async function consume(broker: KafkaTestBroker, topic: string, isolation: 'read_committed' | 'read_uncommitted', partitions = 2): Promise<{ values: string[]; ends: number[] }> {
  const lines = (await client(['consume', broker.brokers[0]!, topic, isolation, String(partitions)])).trim().split('\n');
  const end = lines.pop()!.split(' ');
  return { values: lines.filter((l) => l !== ''), ends: end.slice(1).map(Number) };
}

const valuesOf = (step: number, kind: 'c' | 'a', count: number): string[] => Array.from({ length: count }, (_, i) => `${step}${kind}${i}`);

describe('Kafka transactions with confluent-kafka (librdkafka)', () => {
  it.skipIf(!hasConfluent)('shows committed transactions to read_committed consumers and aborted ones never; read_uncommitted sees both', async () => {
    const broker = await start();
    await createTopic(broker, 'txn');
    expect(await client(['produce', broker.brokers[0]!, 'txn', 'p1', 'c:10,a:10,c:6,a:3'])).toContain('done');
    const committed = await consume(broker, 'txn', 'read_committed');
    expect(committed.values).toEqual([...valuesOf(0, 'c', 10), ...valuesOf(2, 'c', 6)].sort());
    const uncommitted = await consume(broker, 'txn', 'read_uncommitted');
    expect(uncommitted.values).toEqual([...valuesOf(0, 'c', 10), ...valuesOf(1, 'a', 10), ...valuesOf(2, 'c', 6), ...valuesOf(3, 'a', 3)].sort());
    // 29 records and 4 markers in each of the two partitions' logs (15 + 14 records).
    expect(committed.ends.reduce((a, b) => a + b, 0)).toBe(29 + 8);
  });

  it.skipIf(!hasConfluent)('holds read_committed consumers at an open transaction (ListOffsets answers its start) until it commits', async () => {
    const broker = await start();
    await createTopic(broker, 'held');
    const producer = spawnClient(['open', broker.brokers[0]!, 'held', 'holder', '60000']);
    await waitForLine(producer, /^open$/);
    const during = await consume(broker, 'held', 'read_committed');
    expect(during.values).toEqual([]);
    expect(during.ends).toEqual([0, 0]);
    expect((await consume(broker, 'held', 'read_uncommitted')).values).toEqual(['open0', 'open1', 'open2', 'open3']);
    const committed = waitForLine(producer, /^committed$/);
    producer.stdin!.write('\n');
    await committed;
    const after = await consume(broker, 'held', 'read_committed');
    expect(after.values).toEqual(['open0', 'open1', 'open2', 'open3']);
    expect(after.ends).toEqual([3, 3]);
  });

  it.skipIf(!hasConfluent)('fences a zombie: the older producer of a transactional id is refused once a new one initialises, and its records are aborted', async () => {
    const broker = await start();
    await createTopic(broker, 'zombies', 1);
    const output = await client(['zombie', broker.brokers[0]!, 'zombies']);
    // librdkafka reports the broker's INVALID_PRODUCER_EPOCH / PRODUCER_FENCED as its fatal _FENCED error.
    expect(output).toMatch(/^zombie refused (_FENCED|PRODUCER_FENCED|INVALID_PRODUCER_EPOCH) fatal$/m);
    expect((await consume(broker, 'zombies', 'read_committed', 1)).values).toEqual(['from-the-successor']);
  });

  it.skipIf(!hasConfluent)('aborts a transaction left open past its timeout, fencing its producer; read_committed consumers then go on', async () => {
    const broker = await start({ kafka: { transactionAbortCheckMs: 100 } });
    await createTopic(broker, 'abandoned');
    // librdkafka needs message.timeout.ms <= transaction.timeout.ms, and a first send can take a second
    // (FindCoordinator, metadata, AddPartitionsToTxn): a shorter timeout fails the messages in the client.
    const producer = spawnClient(['open', broker.brokers[0]!, 'abandoned', 'slow', '3000']);
    await waitForLine(producer, /^open$/);
    const kafkajs = broker.client().producer();
    await kafkajs.connect();
    await kafkajs.send({ topic: 'abandoned', messages: [{ value: 'after', partition: 0 }] });
    await kafkajs.disconnect();
    const state = async () => {
      const wire = await KafkaWire.connect(broker.port);
      try {
        return (await wire.request(ApiKeys.DescribeTransactions, 0, { transactionalIds: ['slow'] })).transactionStates[0]!.transactionState;
      } finally {
        wire.close();
      }
    };
    await eventually(async () => (await state()) === 'CompleteAbort', 20_000, 'the timed-out transaction to be aborted');
    expect((await consume(broker, 'abandoned', 'read_committed')).values).toEqual(['after']);
    const answered = waitForLine(producer, /^commit failed|^committed/);
    producer.stdin!.write('\n');
    expect(await answered).toMatch(/^commit failed (_FENCED|PRODUCER_FENCED|INVALID_PRODUCER_EPOCH)/);
    const wire = await KafkaWire.connect(broker.port);
    try {
      const described = await wire.request(ApiKeys.DescribeTransactions, 0, { transactionalIds: ['slow', 'nobody'] });
      expect(described.transactionStates.map((s) => [s.transactionalId, s.errorCode, s.transactionState])).toEqual([
        ['slow', 0, 'CompleteAbort'],
        ['nobody', 105, ''],
      ]);
      expect(described.transactionStates[0]!.producerEpoch).toBe(1);
      const listed = await wire.request(ApiKeys.ListTransactions, 1, { stateFilters: ['CompleteAbort', 'Bogus'], producerIdFilters: [], durationFilter: -1 });
      expect(listed.unknownStateFilters).toEqual(['Bogus']);
      expect(listed.transactionStates.map((s) => s.transactionalId)).toEqual(['slow']);
      const producers = await wire.request(ApiKeys.DescribeProducers, 0, { topics: [{ name: 'abandoned', partitionIndexes: [0] }] });
      const state = producers.topics[0]!.partitions[0]!;
      expect(state.errorCode).toBe(0);
      expect(state.activeProducers.map((p) => [p.producerId, p.producerEpoch, p.currentTxnStartOffset])).toEqual([[described.transactionStates[0]!.producerId, 1, -1]]);
    } finally {
      wire.close();
    }
  });

  it.skipIf(!hasConfluent)('consume-transform-produce with send_offsets_to_transaction is exactly once across kill -9 of the processor', async () => {
    const broker = await start();
    await createTopic(broker, 'source');
    await createTopic(broker, 'sink');
    const producer = broker.client().producer();
    await producer.connect();
    const inputs = Array.from({ length: 400 }, (_, i) => `in-${String(i).padStart(3, '0')}`);
    await producer.send({ topic: 'source', messages: inputs.map((value, i) => ({ value, partition: i % 2 })) });
    await producer.disconnect();
    for (let crash = 0; crash < 2; crash++) {
      const processor = spawnClient(['process', broker.brokers[0]!, 'source', 'sink']);
      let commits = 0;
      const enough = new Promise<void>((resolve) => onLines(processor, (line) => line.startsWith('committed') && ++commits === 6 + crash * 4 && resolve()));
      await enough;
      processor.kill('SIGKILL');
      await exitCode(processor);
    }
    const last = spawnClient(['process', broker.brokers[0]!, 'source', 'sink']);
    await waitForLine(last, /^idle$/, 60_000);
    const sink = await consume(broker, 'sink', 'read_committed');
    expect(sink.values).toEqual(inputs.map((v) => v.toUpperCase()));
    // The processor crashed inside transactions: their records are in the log, aborted.
    expect((await consume(broker, 'sink', 'read_uncommitted')).values.length).toBeGreaterThanOrEqual(inputs.length);
  }, 120_000);

  it.skipIf(!hasConfluent)('keeps an open transaction across a broker restart: the producer commits after it, and the aborted index survives', async () => {
    const dir = tempDir('wharf-txn-restart-');
    dirs.push(dir);
    let broker = await start({ dataDir: dir.path, topics: { flush: 'always' } });
    const port = broker.port;
    await createTopic(broker, 'restart');
    expect(await client(['produce', broker.brokers[0]!, 'restart', 'before', 'c:4,a:4'])).toContain('done');
    const producer = spawnClient(['open', broker.brokers[0]!, 'restart', 'across', '60000']);
    await waitForLine(producer, /^open$/);
    await brokers.pop()!.stop();
    broker = await start({ dataDir: dir.path, port, topics: { flush: 'always' } });
    expect((await consume(broker, 'restart', 'read_committed')).values).toEqual(valuesOf(0, 'c', 4));
    const committed = waitForLine(producer, /^committed$|^commit failed/, 60_000);
    producer.stdin!.write('\n');
    expect(await committed).toBe('committed');
    expect((await consume(broker, 'restart', 'read_committed')).values).toEqual([...valuesOf(0, 'c', 4), 'open0', 'open1', 'open2', 'open3'].sort());
  });
});

describe('Kafka transactions with kafkajs', () => {
  it('commits records and consumed offsets together (sendOffsets); an aborted transaction changes neither', async () => {
    const broker = await start();
    await createTopic(broker, 'kjs', 1);
    const kafka = broker.client();
    const producer = kafka.producer({ transactionalId: 'kjs-txn', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const committed = await producer.transaction();
    await committed.send({ topic: 'kjs', messages: [{ value: 'one' }, { value: 'two' }] });
    await committed.sendOffsets({ consumerGroupId: 'kjs-group', topics: [{ topic: 'kjs', partitions: [{ partition: 0, offset: '5' }] }] });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic: 'kjs', messages: [{ value: 'never' }] });
    await aborted.sendOffsets({ consumerGroupId: 'kjs-group', topics: [{ topic: 'kjs', partitions: [{ partition: 0, offset: '9' }] }] });
    await aborted.abort();
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchOffsets({ groupId: 'kjs-group', topics: ['kjs'] });
    expect(offsets[0]!.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '5' })]);
    await admin.disconnect();
    const consumer = kafka.consumer({ groupId: `reader-${Date.now()}`, readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kjs', fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await new Promise((r) => setTimeout(r, 2000));
    await consumer.disconnect();
    expect(seen).toEqual(['one', 'two']);
  });

  it('refuses transactional records of a transaction that does not hold the partition (INVALID_TXN_STATE), EndTxn of a stale epoch (INVALID_PRODUCER_EPOCH before v2) and a TxnOffsetCommit of a member or generation the group does not have', async () => {
    const broker = await start();
    await createTopic(broker, 'strict', 1);
    const wire = await KafkaWire.connect(broker.port);
    try {
      const init = await wire.request(ApiKeys.InitProducerId, 1, { transactionalId: 'strict', transactionTimeoutMs: 10_000, producerId: -1, producerEpoch: -1 });
      expect(init.errorCode).toBe(0);
      const again = await wire.request(ApiKeys.InitProducerId, 1, { transactionalId: 'strict', transactionTimeoutMs: 10_000, producerId: -1, producerEpoch: -1 });
      expect([again.producerId, again.producerEpoch]).toEqual([init.producerId, init.producerEpoch + 1]);
      const stale = await wire.request(ApiKeys.EndTxn, 1, { transactionalId: 'strict', producerId: init.producerId, producerEpoch: init.producerEpoch, committed: true });
      expect(stale.errorCode).toBe(47);
      const fenced = await wire.request(ApiKeys.AddPartitionsToTxn, 3, {
        transactions: [],
        v3AndBelowTransactionalId: 'strict',
        v3AndBelowProducerId: init.producerId,
        v3AndBelowProducerEpoch: init.producerEpoch,
        v3AndBelowTopics: [{ name: 'strict', partitions: [0] }],
      });
      expect(fenced.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(90);
      const empty = await wire.request(ApiKeys.EndTxn, 3, { transactionalId: 'strict', producerId: again.producerId, producerEpoch: again.producerEpoch, committed: true });
      expect(empty.errorCode).toBe(48);
      const produce = async () => {
        const records = encodeRecordBatch({ producerId: again.producerId, producerEpoch: again.producerEpoch, baseSequence: 0, transactional: true, records: [{ value: Buffer.from('x') }] });
        const response = await wire.request(ApiKeys.Produce, 7, { transactionalId: 'strict', acks: -1, timeoutMs: 5000, topicData: [{ name: 'strict', partitionData: [{ index: 0, records }] }] });
        return response.responses[0]!.partitionResponses[0]!.errorCode;
      };
      expect(await produce()).toBe(48);
      const added = await wire.request(ApiKeys.AddPartitionsToTxn, 3, {
        transactions: [],
        v3AndBelowTransactionalId: 'strict',
        v3AndBelowProducerId: again.producerId,
        v3AndBelowProducerEpoch: again.producerEpoch,
        v3AndBelowTopics: [{ name: 'strict', partitions: [0] }],
      });
      expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(0);
      expect(await produce()).toBe(0);
      // The open transaction's record is beyond what read_committed may read: latest and a lookup by time stop before it.
      const listOffsets = async (isolationLevel: number, timestamp: number) =>
        (await wire.request(ApiKeys.ListOffsets, 5, { replicaId: -1, isolationLevel, timeoutMs: 0, topics: [{ name: 'strict', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }] })).topics[0]!.partitions[0]!.offset;
      expect([await listOffsets(0, -1), await listOffsets(1, -1), await listOffsets(0, 0), await listOffsets(1, 0)]).toEqual([1, 0, 0, -1]);
      await wire.request(ApiKeys.AddOffsetsToTxn, 3, { transactionalId: 'strict', producerId: again.producerId, producerEpoch: again.producerEpoch, groupId: 'strict-group' });
      const offsetCommit = (memberId: string, generationId: number) =>
        wire.request(ApiKeys.TxnOffsetCommit, 3, {
          transactionalId: 'strict', groupId: 'strict-group', producerId: again.producerId, producerEpoch: again.producerEpoch, generationId, memberId, groupInstanceId: null,
          topics: [{ name: 'strict', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] }],
        });
      // A consumer's member id and generation (KIP-447) must be the group's: a zombie processor is refused.
      expect((await offsetCommit('ghost', -1)).topics[0]!.partitions[0]!.errorCode).toBe(25);
      expect((await offsetCommit('', 3)).topics[0]!.partitions[0]!.errorCode).toBe(22);
      expect((await offsetCommit('', -1)).topics[0]!.partitions[0]!.errorCode).toBe(0);
      // require_stable (KIP-447): the offset committed in the open transaction makes the partition unstable.
      const offsetFetch = async (version: number, requireStable: boolean) => {
        const topics = [{ name: 'strict', partitionIndexes: [0] }];
        const response = await wire.request(ApiKeys.OffsetFetch, version, { groupId: 'strict-group', topics, requireStable, groups: [{ groupId: 'strict-group', memberId: null, memberEpoch: -1, topics }] });
        const partition = (version >= 8 ? response.groups[0]!.topics : response.topics)[0]!.partitions[0]!;
        return [partition.errorCode, Number(partition.committedOffset)];
      };
      expect([await offsetFetch(7, true), await offsetFetch(8, true), await offsetFetch(7, false)]).toEqual([[88, -1], [88, -1], [0, -1]]);
      const ended = await wire.request(ApiKeys.EndTxn, 3, { transactionalId: 'strict', producerId: again.producerId, producerEpoch: again.producerEpoch, committed: false });
      expect(ended.errorCode).toBe(0);
      await eventually(async () => (await offsetFetch(8, true)).join() === [0, -1].join(), 5000, 'the aborted offsets to be dropped');
    } finally {
      wire.close();
    }
  });
});

describe('Kafka transactions: the versions Kafka 3.9 serves', () => {
  it('serves EndTxn, AddOffsetsToTxn and TxnOffsetCommit v4; TxnOffsetCommit for a group not in the transaction is TRANSACTION_ABORTABLE from v4, INVALID_TXN_STATE before', async () => {
    const broker = await start();
    await createTopic(broker, 'v4', 1);
    const wire = await KafkaWire.connect(broker.port);
    try {
      const versions = await wire.request(ApiKeys.ApiVersions, 3, { clientSoftwareName: 'wharf-test', clientSoftwareVersion: '1' });
      // AddPartitionsToTxn 24, AddOffsetsToTxn 25, EndTxn 26, TxnOffsetCommit 28
      for (const [apiKey, maxVersion] of [[24, 3], [25, 4], [26, 4], [28, 4]]) expect(versions.apiKeys).toContainEqual({ apiKey, minVersion: 0, maxVersion });
      const init = await wire.request(ApiKeys.InitProducerId, 4, { transactionalId: 'v4', transactionTimeoutMs: 10_000, producerId: -1, producerEpoch: -1 });
      expect(init.errorCode).toBe(0);
      const producer = { transactionalId: 'v4', producerId: init.producerId, producerEpoch: init.producerEpoch };
      expect((await wire.request(ApiKeys.AddOffsetsToTxn, 4, { ...producer, groupId: 'added' })).errorCode).toBe(0);
      const commitOffsets = async (version: number, groupId: string) =>
        (
          await wire.request(ApiKeys.TxnOffsetCommit, version, {
            ...producer, groupId, generationId: -1, memberId: '', groupInstanceId: null,
            topics: [{ name: 'v4', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] }],
          })
        ).topics[0]!.partitions[0]!.errorCode;
      expect([await commitOffsets(4, 'not-added'), await commitOffsets(3, 'not-added'), await commitOffsets(4, 'added')]).toEqual([120, 48, 0]);
      expect((await wire.request(ApiKeys.EndTxn, 4, { ...producer, committed: true })).errorCode).toBe(0);
    } finally {
      wire.close();
    }
  });
});

describe('Kafka transactions: transactional id expiration', () => {
  it('forgets an id unused for transactional.id.expiration.ms (its next InitProducerId gets a new producer id), never one with a transaction open', async () => {
    const broker = await start({ kafka: { transactionalIdExpirationMs: 400, transactionRemoveExpiredCheckMs: 100 } });
    await createTopic(broker, 'expiring', 1);
    const wire = await KafkaWire.connect(broker.port);
    try {
      const init = (id: string) => wire.request(ApiKeys.InitProducerId, 1, { transactionalId: id, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
      const state = async (id: string) => (await wire.request(ApiKeys.DescribeTransactions, 0, { transactionalIds: [id] })).transactionStates[0]!;
      const idle = await init('idle');
      const open = await init('open');
      const added = await wire.request(ApiKeys.AddPartitionsToTxn, 3, {
        transactions: [],
        v3AndBelowTransactionalId: 'open',
        v3AndBelowProducerId: open.producerId,
        v3AndBelowProducerEpoch: open.producerEpoch,
        v3AndBelowTopics: [{ name: 'expiring', partitions: [0] }],
      });
      expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(0);
      expect((await state('idle')).errorCode).toBe(0);
      await eventually(async () => (await state('idle')).errorCode === 105, 5000, 'the idle id to expire');
      expect(await state('open')).toMatchObject({ errorCode: 0, transactionState: 'Ongoing' });
      const again = await init('idle');
      expect(again.errorCode).toBe(0);
      expect([again.producerId === idle.producerId, again.producerEpoch]).toEqual([false, 0]);
    } finally {
      wire.close();
    }
  });

  it('ends a hanging transaction with WriteTxnMarkers as Admin.abortTransaction does (found with DescribeProducers): a read_committed kafkajs consumer held at it goes on past it; refusals per partition; ApiVersions lists API 27 v0-1', async () => {
    const broker = await start();
    await createTopic(broker, 'hanging', 1);
    const wire = await KafkaWire.connect(broker.port);
    try {
      const versions = await wire.request(ApiKeys.ApiVersions, 3, { clientSoftwareName: 'wire', clientSoftwareVersion: '1' });
      expect(versions.apiKeys.find((a) => a.apiKey === 27)).toMatchObject({ minVersion: 0, maxVersion: 1 });
      // A transaction left open: its record holds read_committed readers at offset 0.
      const init = await wire.request(ApiKeys.InitProducerId, 1, { transactionalId: 'hanger', transactionTimeoutMs: 600_000, producerId: -1, producerEpoch: -1 });
      const txn = { v3AndBelowTransactionalId: 'hanger', v3AndBelowProducerId: init.producerId, v3AndBelowProducerEpoch: init.producerEpoch };
      await wire.request(ApiKeys.AddPartitionsToTxn, 3, { transactions: [], ...txn, v3AndBelowTopics: [{ name: 'hanging', partitions: [0] }] });
      const records = encodeRecordBatch({ producerId: init.producerId, producerEpoch: init.producerEpoch, baseSequence: 0, transactional: true, records: [{ value: Buffer.from('hung') }] });
      const produced = await wire.request(ApiKeys.Produce, 7, { transactionalId: 'hanger', acks: -1, timeoutMs: 5000, topicData: [{ name: 'hanging', partitionData: [{ index: 0, records }] }] });
      expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
      const kafka = broker.client();
      const plain = kafka.producer();
      await plain.connect();
      await plain.send({ topic: 'hanging', messages: [{ value: 'after-0' }, { value: 'after-1' }] });
      await plain.disconnect();

      const consumer = kafka.consumer({ groupId: 'hanging-reader', readUncommitted: false, maxWaitTimeInMs: 200 });
      const seen: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic: 'hanging', fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
      await new Promise((r) => setTimeout(r, 2000));
      expect(seen).toEqual([]);

      // What kafka-transactions.sh --abort does: the open transaction's producer from DescribeProducers, then an abort marker at the leader.
      const described = await wire.request(ApiKeys.DescribeProducers, 0, { topics: [{ name: 'hanging', partitionIndexes: [0] }] });
      const hung = described.topics[0]!.partitions[0]!.activeProducers.find((p) => p.currentTxnStartOffset >= 0)!;
      expect(hung).toMatchObject({ producerId: init.producerId, producerEpoch: init.producerEpoch, currentTxnStartOffset: 0 });
      const marker = (coordinatorEpoch: number, topics: Array<{ name: string; partitionIndexes: number[] }>) => ({
        markers: [{ producerId: hung.producerId, producerEpoch: hung.producerEpoch, transactionResult: false, coordinatorEpoch, topics }],
      });
      const aborted = await wire.request(ApiKeys.WriteTxnMarkers, 1, marker(Math.max(0, hung.coordinatorEpoch), [{ name: 'hanging', partitionIndexes: [0, 7] }, { name: 'no-such-topic', partitionIndexes: [0] }]));
      expect(aborted.markers).toEqual([
        {
          producerId: hung.producerId,
          topics: [
            { name: 'hanging', partitions: [{ partitionIndex: 7, errorCode: 3 }, { partitionIndex: 0, errorCode: 0 }] },
            { name: 'no-such-topic', partitions: [{ partitionIndex: 0, errorCode: 3 }] },
          ],
        },
      ]);
      await eventually(() => seen.length >= 2, 10_000, 'the records after the aborted transaction read');
      await consumer.disconnect();
      expect(seen).toEqual(['after-0', 'after-1']);
      // A marker of an older coordinator epoch than the last one written there is refused (v0 too).
      const stale = await wire.request(ApiKeys.WriteTxnMarkers, 0, marker(-1, [{ name: 'hanging', partitionIndexes: [0] }]));
      expect(stale.markers[0]!.topics[0]!.partitions[0]!.errorCode).toBe(52);
      expect((await wire.request(ApiKeys.WriteTxnMarkers, 1, { markers: [] })).markers).toEqual([]);
    } finally {
      wire.close();
    }
  });
});

describe('Kafka transactions: authorization and recovery', () => {
  it('needs WRITE on the transactional id: InitProducerId without it is TRANSACTIONAL_ID_AUTHORIZATION_FAILED', async () => {
    const broker = await startSecureKafka();
    brokers.push(broker);
    await addUser(broker.broker, 'carol', 'carol-secret');
    // DESCRIBE lets FindCoordinator answer (kafkajs hides its refusal); InitProducerId needs WRITE.
    const txnAcl = (operation: 'describe' | 'write') => ({ resourceType: 'transactional-id', resourceName: 'carol-txn', patternType: 'literal', principal: 'User:carol', host: '*', operation, permission: 'allow' }) as const;
    await addAcls(broker.broker, topicAcl('carol', 'secure', 'all'), txnAcl('describe'));
    await addUser(broker.broker, 'root', 'root-secret', { superUser: true });
    const sasl = (username: string, password: string) => broker.client({ sasl: { mechanism: 'scram-sha-256', username, password } });
    const rootAdmin = sasl('root', 'root-secret').admin();
    await rootAdmin.connect();
    await rootAdmin.createTopics({ topics: [{ topic: 'secure', numPartitions: 1 }] });
    await rootAdmin.disconnect();
    const refused = sasl('carol', 'carol-secret').producer({ transactionalId: 'carol-txn', idempotent: true, maxInFlightRequests: 1, retry: { retries: 1, initialRetryTime: 50 } });
    await refused.connect();
    await expect(refused.transaction()).rejects.toMatchObject({ type: 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED' });
    await refused.disconnect();
    await addAcls(broker.broker, txnAcl('write'));
    const allowed = sasl('carol', 'carol-secret').producer({ transactionalId: 'carol-txn', idempotent: true, maxInFlightRequests: 1 });
    await allowed.connect();
    const txn = await allowed.transaction();
    await txn.send({ topic: 'secure', messages: [{ value: 'granted' }] });
    await txn.commit();
    await allowed.disconnect();
  });

  it('needs ALTER or CLUSTER_ACTION on the cluster for WriteTxnMarkers: without it every partition is CLUSTER_AUTHORIZATION_FAILED and nothing is written', async () => {
    const broker = await startSecureKafka();
    brokers.push(broker);
    await addUser(broker.broker, 'dave', 'dave-secret');
    await addUser(broker.broker, 'root', 'root-secret', { superUser: true });
    const rootAdmin = broker.client({ sasl: { mechanism: 'scram-sha-256', username: 'root', password: 'root-secret' } }).admin();
    await rootAdmin.connect();
    await rootAdmin.createTopics({ topics: [{ topic: 'guarded', numPartitions: 1 }] });
    await rootAdmin.disconnect();
    await addAcls(broker.broker, topicAcl('dave', 'guarded', 'all'));
    const wire = await KafkaWire.connect(broker.port);
    try {
      expect((await wire.request(ApiKeys.SaslHandshake, 1, { mechanism: 'PLAIN' })).errorCode).toBe(0);
      expect((await wire.request(ApiKeys.SaslAuthenticate, 1, { authBytes: Buffer.from('\0dave\0dave-secret') })).errorCode).toBe(0);
      const abort = () => wire.request(ApiKeys.WriteTxnMarkers, 1, { markers: [{ producerId: 1, producerEpoch: 0, transactionResult: false, coordinatorEpoch: 0, topics: [{ name: 'guarded', partitionIndexes: [0] }] }] });
      expect((await abort()).markers[0]!.topics[0]!.partitions[0]!.errorCode).toBe(31);
      const log = broker.broker.get<TopicRegistry>(TOKENS.TopicRegistry).log('guarded', 0)!;
      expect(log.logEndOffset).toBe(0);
      await addAcls(broker.broker, { resourceType: 'cluster', resourceName: 'kafka-cluster', patternType: 'literal', principal: 'User:dave', host: '*', operation: 'cluster-action', permission: 'allow' });
      expect((await abort()).markers[0]!.topics[0]!.partitions[0]!.errorCode).toBe(0);
      expect(log.logEndOffset).toBe(1);
    } finally {
      wire.close();
    }
  });

  it.skipIf(!hasConfluent)('completes a commit that was prepared but not finished when the broker stopped: markers written and offsets committed on start', async () => {
    const dir = tempDir('wharf-txn-prepared-');
    dirs.push(dir);
    const options = { dataDir: dir.path, topics: { flush: 'always' } };
    let broker = await start(options);
    await createTopic(broker, 'prepared', 1);
    const wire = await KafkaWire.connect(broker.port);
    const init = await wire.request(ApiKeys.InitProducerId, 1, { transactionalId: 'prep', transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
    const base = { v3AndBelowTransactionalId: 'prep', v3AndBelowProducerId: init.producerId, v3AndBelowProducerEpoch: init.producerEpoch };
    await wire.request(ApiKeys.AddPartitionsToTxn, 3, { transactions: [], ...base, v3AndBelowTopics: [{ name: 'prepared', partitions: [0] }] });
    await wire.request(ApiKeys.AddOffsetsToTxn, 3, { transactionalId: 'prep', producerId: init.producerId, producerEpoch: init.producerEpoch, groupId: 'prep-group' });
    const records = encodeRecordBatch({ producerId: init.producerId, producerEpoch: init.producerEpoch, baseSequence: 0, transactional: true, records: [{ value: Buffer.from('prepared-1') }, { value: Buffer.from('prepared-2') }] });
    const produced = await wire.request(ApiKeys.Produce, 7, { transactionalId: 'prep', acks: -1, timeoutMs: 5000, topicData: [{ name: 'prepared', partitionData: [{ index: 0, records }] }] });
    expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    const offsets = await wire.request(ApiKeys.TxnOffsetCommit, 3, {
      transactionalId: 'prep', groupId: 'prep-group', producerId: init.producerId, producerEpoch: init.producerEpoch, generationId: -1, memberId: '', groupInstanceId: null,
      topics: [{ name: 'prepared', partitions: [{ partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(offsets.topics[0]!.partitions[0]!.errorCode).toBe(0);
    wire.close();
    await brokers.pop()!.stop();
    // The crash window: PrepareCommit is in the transaction log, no marker is in the partition yet.
    const engine = new SegmentedStorageEngine(new FsSegmentStore(dir.path), new SingleNodeReplicator(), systemClock, createRootLogger('silent'));
    await engine.open();
    const txnLog = await MetadataLog.open<Record<string, unknown>>(engine, TRANSACTION_LOG);
    await txnLog.put('prep', { ...txnLog.get('prep')!, state: 'PrepareCommit' });
    await engine.close();
    broker = await start(options);
    const check = await KafkaWire.connect(broker.port);
    try {
      await eventually(async () => (await check.request(ApiKeys.DescribeTransactions, 0, { transactionalIds: ['prep'] })).transactionStates[0]!.transactionState === 'CompleteCommit', 10_000, 'the prepared commit to complete');
    } finally {
      check.close();
    }
    expect((await consume(broker, 'prepared', 'read_committed', 1)).values).toEqual(['prepared-1', 'prepared-2']);
    const admin = broker.client().admin();
    await admin.connect();
    expect((await admin.fetchOffsets({ groupId: 'prep-group', topics: ['prepared'] }))[0]!.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '42' })]);
    await admin.disconnect();
  });
});
