import { AdminError, AdminReply, bodyObject, browseLog, bytesJson, queryInteger as integer, type AdminRequest, type AdminRoute, type TopicDescriptor, type TopicRegistry } from '../../core/index.ts';
import type { ClientRegistry } from './clients.ts';
import { RocketError } from './status.ts';
import type { ConsumerGroups } from './model/consumer-groups.ts';
import type { GroupDirectory } from './model/group-directory.ts';
import { toWireMessage } from './model/message-record.ts';
import { MESSAGE_TYPES, type MessageType } from './model/message-types.ts';
import type { Permission, RocketTopics } from './model/rocket-topics.ts';
import type { GroupSpec } from './rocket-config.ts';

export interface RocketViewSources {
  registry: TopicRegistry;
  topics: RocketTopics;
  groups: ConsumerGroups;
  directory: GroupDirectory;
  clients: ClientRegistry;
  defaultQueues: number;
  storeHost: () => string;
}

const PERMISSIONS: readonly Permission[] = ['READ_WRITE', 'WRITE', 'READ'];
const MAX_QUEUES = 1024;
const MAX_BROWSE = 1000;

/** A refusal of the RocketMQ model (an invalid name, a type conflict) as a 400; core refusals as AdminError.from maps them. */
function adminError(err: unknown): AdminError {
  return err instanceof RocketError ? (err.code === 'TOPIC_NOT_FOUND' ? new AdminError(404, 'not_found', err.message) : AdminError.badRequest(err.message)) : AdminError.from(err);
}

/**
 * Wharf's RocketMQ views under /api/wharf/rocketmq: topics with their message type (created or retyped
 * at runtime: NORMAL, FIFO, DELAY, TRANSACTION), consumer groups with their settings and lag per queue,
 * and a message browser that never consumes.
 */
export function rocketAdminRoutes(s: RocketViewSources): AdminRoute[] {
  const topicOf = (request: AdminRequest): TopicDescriptor => {
    const topic = s.topics.find(request.params.topic!);
    if (!topic) throw AdminError.notFound();
    return topic;
  };
  const topicJson = (topic: TopicDescriptor) => {
    let messages = 0;
    let bytes = 0;
    for (let p = 0; p < topic.partitions; p++) {
      const log = s.registry.log(topic.name, p);
      if (!log) continue;
      messages += log.highWatermark - log.logStartOffset;
      bytes += log.size;
    }
    return { name: topic.name, message_type: s.topics.messageType(topic), queues: topic.partitions, permission: s.topics.permission(topic), messages, bytes };
  };
  const groupNames = (): string[] => {
    const names = new Set(s.directory.names());
    for (const queues of s.groups.active()) names.add(queues.group);
    for (const client of s.clients.list()) if (client.group !== undefined) names.add(client.group);
    return [...names].sort();
  };
  const consumption = (group: string) =>
    [...s.groups.active()]
      .filter((q) => q.group === group)
      .map((q) => ({
        topic: q.topic.name,
        lag: q.queues.reduce((sum, queue) => sum + queue.readyCount, 0),
        inflight: q.queues.reduce((sum, queue) => sum + queue.inFlightCount, 0),
        queues: q.queues.map((queue, index) => ({ queue: index, ack_floor: queue.ackFloor, lag: queue.readyCount, inflight: queue.inFlightCount, max_offset: queue.log.highWatermark })),
      }));
  const groupJson = (group: string) => {
    const spec = s.directory.spec(group);
    const topics = consumption(group);
    return {
      group,
      source: s.directory.source(group) ?? null,
      fifo: spec?.fifo ?? false,
      retry: spec?.retry ?? null,
      members: [...s.clients.list()].filter((c) => c.group === group && s.clients.alive(c.id)).map((c) => ({ client_id: c.id, type: c.type ?? null, language: c.language ?? null })),
      lag: topics.reduce((sum, t) => sum + t.lag, 0),
      inflight: topics.reduce((sum, t) => sum + t.inflight, 0),
      topics,
    };
  };
  return [
    {
      method: 'GET',
      path: '/api/wharf/rocketmq/topics',
      summary: 'RocketMQ topics: message type, queues, permission, messages, bytes',
      handler: () => s.registry.list().map(topicJson).sort((a, b) => a.name.localeCompare(b.name)),
    },
    {
      method: 'GET',
      path: '/api/wharf/rocketmq/topics/:topic',
      summary: 'one topic, with each message queue\'s offsets and size',
      handler: (request) => {
        const topic = topicOf(request);
        return {
          ...topicJson(topic),
          message_queues: Array.from({ length: topic.partitions }, (_, queue) => {
            const log = s.registry.log(topic.name, queue);
            return { queue, min_offset: log?.logStartOffset ?? null, max_offset: log?.highWatermark ?? null, bytes: log?.size ?? null };
          }),
          groups: groupNames().filter((g) => consumption(g).some((t) => t.topic === topic.name)),
        };
      },
    },
    {
      method: 'PUT',
      path: '/api/wharf/rocketmq/topics/:topic',
      access: 'administrator',
      summary: 'creates a topic {message_type: NORMAL|FIFO|DELAY|TRANSACTION, queues, permission}; an existing topic gets the new type and permission, and more queues if asked (201 created, 204 changed)',
      handler: async (request) => {
        const name = request.params.topic!;
        const body = bodyObject(request.body);
        const type = body.message_type === undefined ? 'NORMAL' : body.message_type;
        if (!MESSAGE_TYPES.includes(type as MessageType)) throw AdminError.badRequest(`message_type must be one of ${MESSAGE_TYPES.join(', ')}`);
        const queues = body.queues === undefined ? undefined : body.queues;
        if (queues !== undefined && !(typeof queues === 'number' && Number.isInteger(queues) && queues >= 1 && queues <= MAX_QUEUES)) throw AdminError.badRequest(`queues must be an integer in [1, ${MAX_QUEUES}]`);
        const permission = body.permission;
        if (permission !== undefined && !PERMISSIONS.includes(permission as Permission)) throw AdminError.badRequest(`permission must be one of ${PERMISSIONS.join(', ')}`);
        const existing = s.registry.get(name);
        if (existing?.internal) throw AdminError.badRequest(`${name} is an internal topic`);
        try {
          if (!existing) {
            await s.topics.create(name, type as MessageType, (queues as number | undefined) ?? s.defaultQueues, permission as Permission | undefined);
            return AdminReply.created;
          }
          await s.topics.retype(existing, type as MessageType, permission as Permission | undefined);
          if (queues !== undefined && queues > existing.partitions) await s.registry.addPartitions(name, queues);
          else if (queues !== undefined && queues < existing.partitions) throw AdminError.badRequest(`topic ${name} has ${existing.partitions} queues; queues can only be added`);
        } catch (err) {
          throw adminError(err);
        }
        return AdminReply.noContent;
      },
    },
    {
      method: 'DELETE',
      path: '/api/wharf/rocketmq/topics/:topic',
      access: 'administrator',
      summary: 'deletes a topic and its messages',
      handler: async (request) => {
        const topic = topicOf(request);
        try {
          await s.registry.delete(topic.name);
        } catch (err) {
          throw adminError(err);
        }
        return AdminReply.noContent;
      },
    },
    {
      method: 'GET',
      path: '/api/wharf/rocketmq/topics/:topic/messages',
      summary: 'browses a message queue without consuming (?queue=, ?offset= (default: the last ?limit=), ?limit=): id, tag, keys, group, properties, body',
      handler: async (request) => {
        const topic = topicOf(request);
        const queue = integer(request.query.queue, 'queue', 0, topic.partitions - 1);
        const limit = integer(request.query.limit, 'limit', 20, MAX_BROWSE);
        const log = s.registry.log(topic.name, queue);
        if (!log) throw AdminError.notFound();
        const from = request.query.offset === undefined ? Math.max(log.logStartOffset, log.highWatermark - limit) : integer(request.query.offset, 'offset', 0);
        const { records, next } = await browseLog(log, { from, limit });
        return {
          topic: topic.name,
          queue,
          min_offset: log.logStartOffset,
          max_offset: log.highWatermark,
          next_offset: next,
          messages: records.map((r) => {
            const body = r.value ?? Buffer.alloc(0);
            const wire = toWireMessage(r.headers, body, { topic: topic.name, queueId: queue, offset: r.offset, storedAt: r.timestamp, storeHost: s.storeHost() });
            const sys = wire.systemProperties!;
            const shown = bytesJson(body);
            return {
              offset: r.offset,
              store_timestamp: r.timestamp,
              message_id: sys.messageId ?? '',
              message_type: sys.messageType,
              tag: sys.tag ?? null,
              keys: sys.keys ?? [],
              message_group: sys.messageGroup ?? null,
              properties: wire.userProperties ?? {},
              body: shown.value,
              body_encoding: shown.encoding,
              body_bytes: body.length,
            };
          }),
        };
      },
    },
    { method: 'GET', path: '/api/wharf/rocketmq/groups', summary: 'consumer groups: settings (FIFO, retry), live members, lag and in-flight messages', handler: () => groupNames().map(groupJson) },
    {
      method: 'GET',
      path: '/api/wharf/rocketmq/groups/:group',
      summary: 'one group, with lag and in-flight counts per topic and message queue',
      handler: (request) => {
        const group = request.params.group!;
        if (!groupNames().includes(group)) throw AdminError.notFound();
        return groupJson(group);
      },
    },
    {
      method: 'PUT',
      path: '/api/wharf/rocketmq/groups/:group',
      access: 'administrator',
      summary: 'defines a group\'s settings {fifo, retry: {maxAttempts, backoffMs}} (stored; 201 new, 204 changed); groups of rocket.groups are changed in the configuration',
      handler: async (request) => {
        const group = request.params.group!;
        if (!/^[%|a-zA-Z0-9_-]{1,255}$/.test(group)) throw AdminError.badRequest(`group name ${JSON.stringify(group)} is not valid`);
        const body = bodyObject(request.body);
        for (const key of Object.keys(body)) if (key !== 'fifo' && key !== 'retry') throw AdminError.badRequest(`unknown group setting ${key}`);
        const existed = s.directory.source(group) !== undefined;
        try {
          await s.directory.define(group, body as GroupSpec);
        } catch (err) {
          throw adminError(err);
        }
        s.groups.settingsChanged(group);
        return existed ? AdminReply.noContent : AdminReply.created;
      },
    },
    {
      method: 'DELETE',
      path: '/api/wharf/rocketmq/groups/:group',
      access: 'administrator',
      summary: 'forgets a group\'s runtime settings (its consumption state stays)',
      handler: async (request) => {
        const group = request.params.group!;
        let removed: boolean;
        try {
          removed = await s.directory.remove(group);
        } catch (err) {
          throw adminError(err);
        }
        if (!removed) throw AdminError.notFound();
        s.groups.settingsChanged(group);
        return AdminReply.noContent;
      },
    },
  ];
}
