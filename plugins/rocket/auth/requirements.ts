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
  readonly action: Action;
}

/** A RocketMQ action as core operations (any of which meets it), and a name for caches and messages. */
export interface Action {
  readonly name: 'Pub' | 'Sub' | 'Pub,Sub';
  readonly operations: readonly AclOperation[];
}

const PUB: Action = { name: 'Pub', operations: ['write'] };
const SUB: Action = { name: 'Sub', operations: ['read'] };
const PUB_OR_SUB: Action = { name: 'Pub,Sub', operations: ['write', 'read'] };
const CONSUMER_TYPES = new Set(['PUSH_CONSUMER', 'SIMPLE_CONSUMER', 'PULL_CONSUMER', 'LITE_PUSH_CONSUMER', 'LITE_SIMPLE_CONSUMER']);

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
export function requirementsOf(rpc: string, request: Request): Requirement[] {
  const needs: Requirement[] = [];
  switch (rpc) {
    case 'QueryRoute':
      add(needs, 'topic', request.topic, PUB_OR_SUB);
      break;
    case 'SendMessage': {
      const messages = request.messages ?? [];
      if (messages.length === 1) add(needs, 'topic', messages[0]!.topic, PUB);
      else {
        const seen = new Set<string>();
        for (const { topic } of messages) {
          if (topic?.name && !seen.has(topic.name)) {
            seen.add(topic.name);
            add(needs, 'topic', topic, PUB);
          }
        }
      }
      break;
    }
    case 'RecallMessage':
    case 'EndTransaction':
      add(needs, 'topic', request.topic, PUB);
      break;
    case 'Heartbeat':
      if (CONSUMER_TYPES.has(request.clientType ?? '')) add(needs, 'group', request.group, SUB);
      break;
    case 'ReceiveMessage':
      add(needs, 'group', request.group, SUB);
      add(needs, 'topic', request.messageQueue?.topic, SUB);
      break;
    case 'AckMessage':
    case 'ForwardMessageToDeadLetterQueue':
    case 'QueryAssignment':
      add(needs, 'group', request.group, SUB);
      add(needs, 'topic', request.topic, SUB);
      break;
    case 'ChangeInvisibleDuration':
    case 'NotifyClientTermination':
      add(needs, 'group', request.group, SUB);
      break;
    case 'Telemetry': {
      for (const topic of request.settings?.publishing?.topics ?? []) add(needs, 'topic', topic, PUB);
      const subscription = request.settings?.subscription;
      if (subscription) {
        add(needs, 'group', subscription.group, SUB);
        for (const entry of subscription.subscriptions ?? []) add(needs, 'topic', entry.topic, SUB);
      }
      break;
    }
  }
  return needs;
}

function add(needs: Requirement[], resourceType: Requirement['resourceType'], resource: WireResource | undefined, action: Action): void {
  if (resource?.name) needs.push({ resourceType, name: resource.name, action });
}
