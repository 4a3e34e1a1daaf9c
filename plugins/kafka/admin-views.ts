import {
  AdminError,
  AdminReply,
  bodyObject,
  browseLog,
  bytesJson,
  queryInteger as integer,
  type AdminRequest,
  type AdminRoute,
  type BrokerConfig,
  type Cluster,
  type GroupCoordinator,
  type OffsetStore,
  type TopicDescriptor,
  type TopicRegistry,
} from '../../core/index.ts';
import { decodeConsumerProtocolAssignment, Reader } from './codec/index.ts';
import { checkKafkaTopicName } from './kafka-names.ts';
import { describeTopicConfig, topicConfigFromKafka } from './topic-configs.ts';

export interface KafkaViewSources {
  config: BrokerConfig;
  topics: TopicRegistry;
  cluster: Cluster;
  offsets: OffsetStore;
  coordinator: GroupCoordinator;
}

const MAX_BROWSE = 1000;

/** Wharf's Kafka views under /api/wharf/kafka: topics with their partitions (leader, ISR, offsets, sizes, configs), groups with members, assignments and lag, a message browser. */
export function kafkaAdminRoutes(s: KafkaViewSources): AdminRoute[] {
  /** What Kafka clients see: not a plugin's internal topic, and in a cluster a cluster topic. */
  const visible = (name: string): TopicDescriptor | undefined => {
    const topic = s.topics.get(name);
    return topic && !topic.internal && (topic.replicated || !s.cluster.clustered) ? topic : undefined;
  };
  const topicOf = (request: AdminRequest): TopicDescriptor => {
    const topic = visible(request.params.topic!);
    if (!topic) throw AdminError.notFound();
    return topic;
  };
  const replicationFactor = (topic: TopicDescriptor): number => s.cluster.partitionState(topic.name, 0)?.replicas.length ?? 1;
  const summary = (topic: TopicDescriptor) => {
    let messages = 0;
    let bytes = 0;
    let local = 0;
    for (let p = 0; p < topic.partitions; p++) {
      const log = s.topics.log(topic.name, p);
      if (!log) continue;
      local++;
      messages += log.highWatermark - log.logStartOffset;
      bytes += log.size;
    }
    return {
      name: topic.name,
      id: topic.id,
      partitions: topic.partitions,
      replication_factor: replicationFactor(topic),
      local_partitions: local,
      messages,
      bytes,
      configs: Object.fromEntries(describeTopicConfig(topic.config, s.config.topics).filter((c) => !c.isDefault).map((c) => [c.name, c.value])),
    };
  };
  const partitionView = (topic: TopicDescriptor, p: number) => {
    const state = s.cluster.partitionState(topic.name, p);
    const live = new Set(s.cluster.members().map((m) => m.nodeId));
    const replicas = state?.replicas ?? [s.cluster.nodeId];
    const log = s.topics.log(topic.name, p);
    return {
      partition: p,
      leader: state ? state.leader : s.cluster.nodeId,
      leader_epoch: state?.leaderEpoch ?? 0,
      replicas,
      isr: state ? state.isr.map(([id]) => id) : [s.cluster.nodeId],
      offline_replicas: replicas.filter((id) => !live.has(id)),
      local: log !== undefined,
      log_start_offset: log?.logStartOffset ?? null,
      high_watermark: log?.highWatermark ?? null,
      log_end_offset: log?.logEndOffset ?? null,
      bytes: log?.size ?? null,
      segments: log?.segmentCount ?? null,
    };
  };
  const groupOf = (request: AdminRequest): string => {
    const group = request.params.group!;
    const coordination = s.offsets.coordination(group);
    if (coordination.state === 'elsewhere') throw new AdminError(404, 'not_found', `group ${group} is coordinated by broker ${coordination.nodeId}`);
    if (coordination.state !== 'here') throw AdminError.unavailable(`the coordinator of group ${group} is ${coordination.state}`);
    return group;
  };
  const lagOf = (group: string) =>
    s.offsets.fetchAll(group).map((c) => {
      const log = s.topics.log(c.topic, c.partition);
      return {
        topic: c.topic,
        partition: c.partition,
        committed_offset: c.offset,
        metadata: c.metadata,
        commit_timestamp: c.commitTimestamp,
        high_watermark: log?.highWatermark ?? null,
        lag: log ? Math.max(0, log.highWatermark - c.offset) : null,
      };
    });
  return [
    {
      method: 'GET',
      path: '/api/wharf/kafka/topics',
      summary: 'Kafka topics: partitions, replication factor, messages, bytes, config overrides',
      handler: () => s.topics.list().filter((t) => visible(t.name)).map(summary).sort((a, b) => a.name.localeCompare(b.name)),
    },
    {
      method: 'GET',
      path: '/api/wharf/kafka/topics/:topic',
      summary: 'one topic: every partition\'s leader, epoch, replicas, ISR, offsets, bytes, segments; every config with its source',
      handler: (request) => {
        const topic = topicOf(request);
        return {
          ...summary(topic),
          created_at: topic.createdAt,
          configs: describeTopicConfig(topic.config, s.config.topics).map((c) => ({ name: c.name, value: c.value, source: c.isDefault ? 'default' : 'topic' })),
          partitions: Array.from({ length: topic.partitions }, (_, p) => partitionView(topic, p)),
        };
      },
    },
    {
      method: 'PUT',
      path: '/api/wharf/kafka/topics/:topic',
      access: 'administrator',
      summary: 'creates a topic: {partitions, replication_factor, configs: {"retention.ms": "..."}}; 201, or 409 if it exists',
      handler: async (request) => {
        const name = request.params.topic!;
        const body = bodyObject(request.body);
        const partitions = optionalInteger(body.partitions, 'partitions');
        const factor = optionalInteger(body.replication_factor, 'replication_factor');
        const configs = body.configs ?? {};
        if (configs === null || typeof configs !== 'object' || Array.isArray(configs) || !Object.values(configs).every((v) => typeof v === 'string' || typeof v === 'number')) {
          throw AdminError.badRequest('configs must map Kafka config names to values');
        }
        try {
          checkKafkaTopicName(name);
          const config = topicConfigFromKafka(Object.entries(configs).map(([key, value]) => ({ name: key, value: String(value) })));
          await s.topics.create(name, { partitions, config, replicated: true, replicationFactor: factor });
        } catch (err) {
          throw AdminError.from(err);
        }
        return AdminReply.created;
      },
    },
    {
      method: 'DELETE',
      path: '/api/wharf/kafka/topics/:topic',
      access: 'administrator',
      summary: 'deletes a topic and its data',
      handler: async (request) => {
        const topic = topicOf(request);
        try {
          await s.topics.delete(topic.name);
        } catch (err) {
          throw AdminError.from(err);
        }
        return AdminReply.noContent;
      },
    },
    {
      method: 'GET',
      path: '/api/wharf/kafka/topics/:topic/messages',
      summary: 'browses a partition without consuming (?partition=, ?offset= (default: the last ?limit=), ?limit=): key, value, headers, timestamp',
      handler: async (request) => {
        const topic = topicOf(request);
        const partition = integer(request.query.partition, 'partition', 0, topic.partitions - 1);
        const limit = integer(request.query.limit, 'limit', 20, MAX_BROWSE);
        const log = s.topics.log(topic.name, partition);
        if (!log) throw new AdminError(404, 'not_found', `this broker holds no replica of ${topic.name}-${partition}`);
        const from = request.query.offset === undefined ? Math.max(log.logStartOffset, log.highWatermark - limit) : integer(request.query.offset, 'offset', 0);
        const { records, next } = await browseLog(log, { from, limit });
        return {
          topic: topic.name,
          partition,
          log_start_offset: log.logStartOffset,
          high_watermark: log.highWatermark,
          next_offset: next,
          messages: records.map((r) => {
            const key = bytesJson(r.key);
            const value = bytesJson(r.value);
            return {
              offset: r.offset,
              timestamp: r.timestamp,
              key: key.value,
              key_encoding: key.encoding,
              value: value.value,
              value_encoding: value.encoding,
              headers: r.headers.map((h) => {
                const v = bytesJson(h.value);
                return { key: h.key, value: v.value, encoding: v.encoding };
              }),
            };
          }),
        };
      },
    },
    {
      method: 'GET',
      path: '/api/wharf/kafka/groups',
      summary: 'the consumer groups this broker coordinates: state, members, total lag',
      handler: () =>
        s.coordinator
          .list()
          .map((g) => ({
            group: g.groupId,
            state: g.state,
            protocol_type: g.protocolType,
            members: s.coordinator.describe(g.groupId).members.length,
            lag: lagOf(g.groupId).reduce((sum, p) => sum + (p.lag ?? 0), 0),
          }))
          .sort((a, b) => a.group.localeCompare(b.group)),
    },
    {
      method: 'GET',
      path: '/api/wharf/kafka/groups/:group',
      summary: 'one group: members with their assignments, committed offsets and lag per partition',
      handler: (request) => {
        const group = groupOf(request);
        const d = s.coordinator.describe(group);
        if (d.state === 'Dead') throw AdminError.notFound();
        return {
          group,
          state: d.state,
          protocol_type: d.protocolType,
          protocol: d.protocolName,
          generation: d.generationId,
          leader: d.leaderId,
          assignment_mode: d.assignmentMode,
          members: d.members.map((m) => ({
            member_id: m.memberId,
            group_instance_id: m.groupInstanceId,
            client_id: m.clientId,
            client_host: m.clientHost,
            assignment: d.protocolType === 'consumer' ? assignmentOf(m.assignment) : null,
          })),
          offsets: lagOf(group),
        };
      },
    },
    {
      method: 'DELETE',
      path: '/api/wharf/kafka/groups/:group',
      access: 'administrator',
      summary: 'deletes an empty group and its committed offsets (409 while it has members)',
      handler: async (request) => {
        const group = groupOf(request);
        const error = await s.coordinator.delete(group);
        if (error === 'GROUP_NOT_EMPTY') throw new AdminError(409, 'conflict', `group ${group} still has members`);
        if (error === 'GROUP_NOT_FOUND') throw AdminError.notFound();
        if (error) throw AdminError.badRequest(error);
        return AdminReply.noContent;
      },
    },
  ];
}

/** A consumer-protocol assignment as topic and partition lists; undefined for bytes that are not one. */
function assignmentOf(bytes: Buffer): Array<{ topic: string; partitions: number[] }> | null {
  if (bytes.length < 2) return [];
  try {
    const r = new Reader(bytes);
    const version = Math.min(r.int16(), 3);
    return decodeConsumerProtocolAssignment(r, version).assignedPartitions.map((a) => ({ topic: a.topic, partitions: [...a.partitions] }));
  } catch {
    return null;
  }
}

function optionalInteger(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw AdminError.badRequest(`${name} must be a positive integer`);
  return value;
}
