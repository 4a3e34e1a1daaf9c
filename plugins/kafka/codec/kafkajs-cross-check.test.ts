import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../../../core/index.ts';
import { ApiKeys, type ApiCodec } from './api-table.ts';
import { decodeRequest, encodeResponse, parseRequestHeader } from './frames.ts';

const require = createRequire(import.meta.url);
type KafkajsRequest = { request: { apiKey: number; apiVersion: number; encode: () => Promise<{ buffer: Buffer }> }; response: { decode: (b: Buffer) => Promise<unknown>; parse: (d: unknown) => Promise<unknown> } };
const { requests } = require('kafkajs/src/protocol/requests/index.js') as { requests: Record<string, { protocol: (o: { version: number }) => (args: unknown) => KafkajsRequest }> };
const encodeFrame = require('kafkajs/src/protocol/request.js') as (o: { correlationId: number; clientId: string; request: KafkajsRequest['request'] }) => Promise<{ buffer: Buffer }>;

/** Encodes a request with kafkajs's own encoders and decodes it with Wharf's codec. */
async function viaKafkajs(apiName: string, version: number, args: unknown): Promise<{ body: Record<string, unknown>; kafkajs: KafkajsRequest }> {
  const kafkajs = requests[apiName]!.protocol({ version })(args);
  const frame = (await encodeFrame({ correlationId: 42, clientId: 'kafkajs-test', request: kafkajs.request })).buffer.subarray(4);
  const header = parseRequestHeader(frame);
  expect(header).toMatchObject({ apiVersion: version, correlationId: 42, clientId: 'kafkajs-test' });
  return { body: decodeRequest(header, frame) as Record<string, unknown>, kafkajs };
}

/** Encodes a response with Wharf's codec and hands it to kafkajs's response parser. */
async function parsedByKafkajs<T>(api: ApiCodec<unknown, T>, version: number, kafkajs: KafkajsRequest, body: T): Promise<unknown> {
  const frame = Buffer.concat(encodeResponse(api, version, 42, body)).subarray(8);
  return kafkajs.response.parse(await kafkajs.response.decode(frame));
}

const batch = encodeRecordBatch({ records: [{ key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 1_700_000_000_000 }] });
const kafkajsRecord = { key: 'k', value: 'v', timestamp: 1_700_000_000_000 };

describe('Wharf codec against kafkajs 2.2.4 encoders and parsers', () => {
  it('Produce v3-v7 with a real record batch', async () => {
    for (let version = 3; version <= 7; version++) {
      const { body, kafkajs } = await viaKafkajs('Produce', version, { acks: -1, timeout: 30000, topicData: [{ topic: 'orders', partitions: [{ partition: 2, messages: [kafkajsRecord] }] }] });
      expect(body).toMatchObject({ acks: -1, timeoutMs: 30000, transactionalId: null });
      const topic = (body.topicData as Array<{ name: string; partitionData: Array<{ index: number; records: Buffer }> }>)[0]!;
      expect(topic.name).toBe('orders');
      expect(topic.partitionData[0]!.index).toBe(2);
      expect(topic.partitionData[0]!.records.readInt8(16)).toBe(2);
      const parsed = await parsedByKafkajs(ApiKeys.Produce, version, kafkajs, {
        responses: [{ name: 'orders', partitionResponses: [{ index: 2, errorCode: 0, baseOffset: 17, logAppendTimeMs: -1, logStartOffset: 0, recordErrors: [], errorMessage: null, currentLeader: null }] }],
        throttleTimeMs: 0,
        nodeEndpoints: [],
      });
      expect(JSON.stringify(parsed)).toContain('"baseOffset":"17"');
    }
  });

  it('Fetch v4-v11, and kafkajs reads the stored batches Wharf returns', async () => {
    for (let version = 4; version <= 11; version++) {
      const { body, kafkajs } = await viaKafkajs('Fetch', version, {
        replicaId: -1,
        maxWaitTime: 500,
        minBytes: 1,
        maxBytes: 1 << 20,
        topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: '5', maxBytes: 1 << 20 }] }],
      });
      expect(body).toMatchObject({ replicaId: -1, maxWaitMs: 500, minBytes: 1, maxBytes: version >= 3 ? 1 << 20 : 0x7fffffff });
      const partition = (body.topics as Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: number }> }>)[0]!;
      expect(partition.topic).toBe('orders');
      expect(partition.partitions[0]!.fetchOffset).toBe(5);
      const parsed = (await parsedByKafkajs(ApiKeys.Fetch, version, kafkajs, {
        throttleTimeMs: 0,
        errorCode: 0,
        sessionId: 0,
        responses: [
          {
            topic: 'orders',
            topicId: Buffer.alloc(16),
            partitions: [
              {
                partitionIndex: 0,
                errorCode: 0,
                highWatermark: 1,
                lastStableOffset: 1,
                logStartOffset: 0,
                divergingEpoch: null,
                currentLeader: null,
                snapshotId: null,
                abortedTransactions: [],
                preferredReadReplica: -1,
                records: [batch],
              },
            ],
          },
        ],
        nodeEndpoints: [],
      })) as { responses: Array<{ partitions: Array<{ messages: Array<{ key: Buffer; value: Buffer }> }> }> };
      const message = parsed.responses[0]!.partitions[0]!.messages[0]!;
      expect([message.key.toString(), message.value.toString()]).toEqual(['k', 'v']);
    }
  });

  it('Metadata v0-v6 requests, and kafkajs parses the responses', async () => {
    for (let version = 0; version <= 6; version++) {
      const { body, kafkajs } = await viaKafkajs('Metadata', version, { topics: ['a', 'b'], allowAutoTopicCreation: true });
      expect((body.topics as Array<{ name: string }>).map((t) => t.name)).toEqual(['a', 'b']);
      const parsed = (await parsedByKafkajs(ApiKeys.Metadata, version, kafkajs, {
        throttleTimeMs: 0,
        brokers: [{ nodeId: 1, host: '127.0.0.1', port: 9092, rack: null }],
        clusterId: 'wharf',
        controllerId: 1,
        topics: [{ errorCode: 0, name: 'a', topicId: Buffer.alloc(16), isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }], topicAuthorizedOperations: -2147483648 }],
        clusterAuthorizedOperations: -2147483648,
      })) as { brokers: Array<{ host: string; port: number }>; topicMetadata: Array<{ topic: string; partitionMetadata: Array<{ leader: number }> }> };
      expect(parsed.brokers[0]).toMatchObject({ host: '127.0.0.1', port: 9092 });
      expect(parsed.topicMetadata[0]).toMatchObject({ topic: 'a', partitionMetadata: [{ leader: 1 }] });
    }
  });

  it('group APIs: JoinGroup v0-v5, SyncGroup v0-v3, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, FindCoordinator', async () => {
    for (let version = 0; version <= 5; version++) {
      const { body, kafkajs } = await viaKafkajs('JoinGroup', version, {
        groupId: 'g',
        sessionTimeout: 30000,
        rebalanceTimeout: 60000,
        memberId: '',
        protocolType: 'consumer',
        groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 2]) }],
      });
      expect(body).toMatchObject({ groupId: 'g', sessionTimeoutMs: 30000, memberId: '', protocolType: 'consumer' });
      expect((body.protocols as Array<{ name: string; metadata: Buffer }>)[0]!.metadata).toEqual(Buffer.from([0, 1, 2]));
      if (version >= 1) expect(body.rebalanceTimeoutMs).toBe(60000);
      const parsed = await parsedByKafkajs(ApiKeys.JoinGroup, version, kafkajs, {
        throttleTimeMs: 0,
        errorCode: 0,
        generationId: 3,
        protocolType: 'consumer',
        protocolName: 'RoundRobinAssigner',
        leader: 'm1',
        skipAssignment: false,
        memberId: 'm1',
        members: [{ memberId: 'm1', groupInstanceId: null, metadata: Buffer.from([9]) }],
      });
      expect(parsed).toMatchObject({ generationId: 3, leaderId: 'm1', memberId: 'm1', groupProtocol: 'RoundRobinAssigner' });
    }
    for (let version = 0; version <= 3; version++) {
      const { body } = await viaKafkajs('SyncGroup', version, { groupId: 'g', generationId: 3, memberId: 'm1', groupAssignment: [{ memberId: 'm1', memberAssignment: Buffer.from([1]) }] });
      expect(body).toMatchObject({ groupId: 'g', generationId: 3, memberId: 'm1', assignments: [{ memberId: 'm1', assignment: Buffer.from([1]) }] });
      const heartbeat = await viaKafkajs('Heartbeat', version, { groupId: 'g', groupGenerationId: 3, memberId: 'm1' });
      expect(heartbeat.body).toMatchObject({ groupId: 'g', generationId: 3, memberId: 'm1' });
      const leave = await viaKafkajs('LeaveGroup', version, { groupId: 'g', memberId: 'm1' });
      if (version < 3) expect(leave.body).toMatchObject({ groupId: 'g', memberId: 'm1' });
      else expect(leave.body).toMatchObject({ groupId: 'g', members: [{ memberId: 'm1' }] });
    }
    for (let version = 0; version <= 5; version++) {
      const { body } = await viaKafkajs('OffsetCommit', version, { groupId: 'g', groupGenerationId: 3, memberId: 'm1', topics: [{ topic: 't', partitions: [{ partition: 1, offset: '12', metadata: 'x' }] }] });
      expect(body).toMatchObject({ groupId: 'g', topics: [{ name: 't', partitions: [{ partitionIndex: 1, committedOffset: 12, committedMetadata: 'x' }] }] });
    }
    for (let version = 1; version <= 4; version++) {
      const { body } = await viaKafkajs('OffsetFetch', version, { groupId: 'g', topics: [{ topic: 't', partitions: [{ partition: 0 }] }] });
      expect(body).toMatchObject({ groupId: 'g', topics: [{ name: 't', partitionIndexes: [0] }] });
    }
    for (let version = 0; version <= 2; version++) {
      const { body } = await viaKafkajs('GroupCoordinator', version, { groupId: 'g' });
      expect(body).toMatchObject({ key: 'g' });
    }
  });

  it('admin and producer APIs: ApiVersions, ListOffsets, CreateTopics, DeleteTopics, InitProducerId, CreatePartitions, DescribeConfigs', async () => {
    for (let version = 0; version <= 2; version++) {
      const { kafkajs } = await viaKafkajs('ApiVersions', version, {});
      const parsed = await parsedByKafkajs(ApiKeys.ApiVersions, version, kafkajs, {
        errorCode: 0,
        apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 7 }],
        throttleTimeMs: 0,
        supportedFeatures: [],
        finalizedFeaturesEpoch: -1,
        finalizedFeatures: [],
        zkMigrationReady: false,
      });
      expect(parsed).toMatchObject({ apiVersions: [{ apiKey: 0, minVersion: 3, maxVersion: 7 }] });
    }
    for (let version = 0; version <= 3; version++) {
      const { body } = await viaKafkajs('ListOffsets', version, { topics: [{ topic: 't', partitions: [{ partition: 0, timestamp: '-2' }] }] });
      expect(body).toMatchObject({ replicaId: -1, topics: [{ name: 't', partitions: [{ partitionIndex: 0, timestamp: -2 }] }] });
      const created = await viaKafkajs('CreateTopics', version, { topics: [{ topic: 'n', numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '1000' }] }], timeout: 5000 });
      expect(created.body).toMatchObject({ timeoutMs: 5000, topics: [{ name: 'n', numPartitions: 3, replicationFactor: 1, configs: [{ name: 'retention.ms', value: '1000' }] }] });
    }
    for (let version = 0; version <= 1; version++) {
      const { body } = await viaKafkajs('DeleteTopics', version, { topics: ['x'], timeout: 100 });
      expect(body).toMatchObject({ topicNames: ['x'], timeoutMs: 100 });
      const init = await viaKafkajs('InitProducerId', version, { transactionalId: null, transactionTimeout: 5000 });
      expect(init.body).toMatchObject({ transactionalId: null, transactionTimeoutMs: 5000 });
      const partitions = await viaKafkajs('CreatePartitions', version, { topicPartitions: [{ topic: 'x', count: 4 }], timeout: 100, validateOnly: false });
      expect(partitions.body).toMatchObject({ topics: [{ name: 'x', count: 4, assignments: null }] });
    }
    const configs = await viaKafkajs('DescribeConfigs', 2, { resources: [{ type: 2, name: 'x', configNames: ['retention.ms'] }], includeSynonyms: false });
    expect(configs.body).toMatchObject({ resources: [{ resourceType: 2, resourceName: 'x', configurationKeys: ['retention.ms'] }] });
  });
});
