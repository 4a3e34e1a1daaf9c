import type { TopicDescriptor } from '../../../core/index.ts';
import type { Caller, RocketContext, WireEndpoints, WireResource } from '../rocket-context.ts';
import { OK, RocketError } from '../status.ts';

const BROKER_NAME = 'wharf';

/** The message queue as clients see it; `endpoints` are the access point the client used. */
export function wireQueue(ctx: RocketContext, topic: TopicDescriptor, id: number, endpoints: WireEndpoints | undefined): Record<string, unknown> {
  return {
    topic: { name: topic.name, resourceNamespace: '' },
    id,
    permission: ctx.topics.permission(topic),
    broker: { name: BROKER_NAME, id: 0, endpoints: endpoints ?? {} },
    acceptMessageTypes: [ctx.topics.messageType(topic)],
  };
}

export function requireName(resource: WireResource | undefined, what: 'topic' | 'group'): string {
  const name = resource?.name;
  if (!name) throw new RocketError(what === 'topic' ? 'ILLEGAL_TOPIC' : 'ILLEGAL_CONSUMER_GROUP', `${what} name is empty`);
  if (what === 'group' && !/^[%|a-zA-Z0-9_-]{1,255}$/.test(name)) throw new RocketError('ILLEGAL_CONSUMER_GROUP', `group name ${JSON.stringify(name)} is not valid`);
  return name;
}

export async function queryRoute(ctx: RocketContext, request: { topic?: WireResource; endpoints?: WireEndpoints }): Promise<object> {
  const topic = await ctx.topics.require(requireName(request.topic, 'topic'));
  return { status: OK, messageQueues: Array.from({ length: topic.partitions }, (_, id) => wireQueue(ctx, topic, id, request.endpoints)) };
}

/**
 * Which queues a push consumer polls. Like RocketMQ's proxy: one entry (queue -1: the broker pops across
 * all queues) for ordinary groups; for FIFO groups, the queues the group's assignor gives this client
 * among the group's live push consumers.
 */
export async function queryAssignment(ctx: RocketContext, request: { topic?: WireResource; group?: WireResource; endpoints?: WireEndpoints }, caller: Caller): Promise<object> {
  const topic = await ctx.topics.require(requireName(request.topic, 'topic'));
  const group = requireName(request.group, 'group');
  if (!ctx.groups.isFifo(group)) return { status: OK, assignments: [{ messageQueue: wireQueue(ctx, topic, -1, request.endpoints) }] };
  const members = ctx.clients
    .members(group)
    .filter((id) => ctx.clients.alive(id))
    .concat(caller.clientId)
    .filter((id, i, all) => all.indexOf(id) === i)
    .map((id) => ({ id, subscriptions: [topic.name] }));
  const assignment = ctx.assignors.default.assign({ members, partitionsPerTopic: new Map([[topic.name, topic.partitions]]) });
  const mine = assignment.get(caller.clientId)?.get(topic.name) ?? [];
  return { status: OK, assignments: mine.map((id) => ({ messageQueue: wireQueue(ctx, topic, id, request.endpoints) })) };
}

export function heartbeat(ctx: RocketContext, request: { group?: WireResource; clientType?: string }, caller: Caller): object {
  const session = ctx.clients.touch(caller.clientId);
  if (request.clientType && request.clientType !== 'CLIENT_TYPE_UNSPECIFIED') session.type = request.clientType;
  if (request.group?.name) session.group = request.group.name;
  return { status: OK };
}

export function notifyClientTermination(ctx: RocketContext, _request: unknown, caller: Caller): object {
  ctx.clients.remove(caller.clientId);
  return { status: OK };
}
