import type { AclOperation } from '../../../core/index.ts';
import type { WireResource } from '../rocket-context.ts';

/**
 * What a request must be allowed, as RocketMQ's DefaultAuthorizationContextBuilder lists it for gRPC:
 * an action on a topic or a consumer group. RocketMQ's `Pub` is the core's `write` on a topic (what a
 * Kafka producer needs), `Sub` is `read` on a topic or group; a requirement with several actions is met
 * by a binding for any of them (QueryRoute: Pub or Sub).
 */
export interface Requirement {
  readonly resourceType: 'topic' | 'group';
  readonly name: string;
  readonly operations: readonly AclOperation[];
}

const PUB: readonly AclOperation[] = ['write'];
const SUB: readonly AclOperation[] = ['read'];
const PUB_OR_SUB: readonly AclOperation[] = ['write', 'read'];
const CONSUMER_TYPES = new Set(['PUSH_CONSUMER', 'SIMPLE_CONSUMER', 'PULL_CONSUMER', 'LITE_PUSH_CONSUMER', 'LITE_SIMPLE_CONSUMER']);
const NONE: readonly Requirement[] = [];

interface Request {
  topic?: WireResource;
  group?: WireResource;
  messageQueue?: { topic?: WireResource };
  messages?: Array<{ topic?: WireResource }>;
  clientType?: string;
  settings?: { publishing?: { topics?: WireResource[] }; subscription?: { group?: WireResource; subscriptions?: Array<{ topic?: WireResource }> } };
}

/**
 * The requirements of one call of `rpc`. A resource without a name adds none: the handler refuses the
 * request as malformed anyway. A send names every topic of its messages (the proxy looks at the first
 * only, and sends them all there; Wharf sends each to its own topic, so each is checked).
 */
export function requirementsOf(rpc: string, request: Request): readonly Requirement[] {
  switch (rpc) {
    case 'QueryRoute':
      return topic(request.topic, PUB_OR_SUB);
    case 'SendMessage':
      return [...new Set((request.messages ?? []).map((m) => m.topic?.name ?? ''))].flatMap((name) => topic({ name }, PUB));
    case 'RecallMessage':
    case 'EndTransaction':
      return topic(request.topic, PUB);
    case 'Heartbeat':
      return CONSUMER_TYPES.has(request.clientType ?? '') ? group(request.group) : NONE;
    case 'ReceiveMessage':
      return [...group(request.group), ...topic(request.messageQueue?.topic, SUB)];
    case 'AckMessage':
    case 'ForwardMessageToDeadLetterQueue':
    case 'QueryAssignment':
      return [...group(request.group), ...topic(request.topic, SUB)];
    case 'ChangeInvisibleDuration':
    case 'NotifyClientTermination':
      return group(request.group);
    case 'Telemetry': {
      const settings = request.settings;
      if (!settings) return NONE;
      const published = (settings.publishing?.topics ?? []).flatMap((t) => topic(t, PUB));
      const subscription = settings.subscription;
      const subscribed = subscription ? [...group(subscription.group), ...(subscription.subscriptions ?? []).flatMap((s) => topic(s.topic, SUB))] : [];
      return [...published, ...subscribed];
    }
    default:
      return NONE;
  }
}

function topic(resource: WireResource | undefined, operations: readonly AclOperation[]): Requirement[] {
  return resource?.name ? [{ resourceType: 'topic', name: resource.name, operations }] : [];
}

function group(resource: WireResource | undefined): Requirement[] {
  return resource?.name ? [{ resourceType: 'group', name: resource.name, operations: SUB }] : [];
}
