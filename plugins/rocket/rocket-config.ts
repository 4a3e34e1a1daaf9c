import { BrokerError, field, type ConfigField, type ValuesOf } from '../../core/index.ts';
import { checkRetryPolicy, type RetryPolicySpec } from './model/retry-policy.ts';
import { MESSAGE_TYPES, type MessageType } from './model/message-types.ts';

export interface TopicSpec {
  type: MessageType;
  queues?: number;
}

export interface GroupSpec {
  /** Deliver a message group's next message only after the previous one is acked. */
  fifo?: boolean;
  retry?: RetryPolicySpec;
}

function json<T>(defaultValue: T, description: string, check: (value: unknown) => T): ConfigField<T> {
  return { default: defaultValue, description, coerce: (value) => check(typeof value === 'string' ? JSON.parse(value) : value) };
}

function checkTopics(value: unknown): Record<string, TopicSpec> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BrokerError('CONFIG_INVALID', 'rocket.topics must map topic names to a message type or { type, queues }');
  const topics: Record<string, TopicSpec> = {};
  for (const [name, spec] of Object.entries(value)) {
    const topic: TopicSpec = typeof spec === 'string' ? { type: spec as MessageType } : (spec as TopicSpec);
    if (!MESSAGE_TYPES.includes(topic?.type)) throw new BrokerError('CONFIG_INVALID', `rocket.topics.${name}: type must be one of ${MESSAGE_TYPES.join(', ')}`);
    if (topic.queues !== undefined && !(Number.isInteger(topic.queues) && topic.queues >= 1 && topic.queues <= 1024)) {
      throw new BrokerError('CONFIG_INVALID', `rocket.topics.${name}: queues must be an integer in [1, 1024]`);
    }
    topics[name] = topic;
  }
  return topics;
}

function checkGroups(value: unknown): Record<string, GroupSpec> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BrokerError('CONFIG_INVALID', 'rocket.groups must map group names to { fifo, retry }');
  for (const [name, spec] of Object.entries(value as Record<string, GroupSpec>)) {
    if (spec.fifo !== undefined && typeof spec.fifo !== 'boolean') throw new BrokerError('CONFIG_INVALID', `rocket.groups.${name}.fifo must be a boolean`);
    if (spec.retry !== undefined) checkRetryPolicy(spec.retry, `rocket.groups.${name}.retry`);
  }
  return value as Record<string, GroupSpec>;
}

export const rocketConfigFields = {
  port: field.port(8081, 'RocketMQ 5 gRPC listener port; 0 disables it'),
  tlsMode: field.oneOf(['permissive', 'enforcing', 'disabled'], 'permissive', "with --tls-cert and --tls-key: TLS on the gRPC port alongside plaintext (permissive), TLS only (enforcing) or none (the proxy's tls.server.mode)"),
  queues: field.integer(8, 'message queues of a topic created without a count', { min: 1, max: 1024 }),
  autoCreateTopics: field.boolean(true, 'create an unknown topic (type NORMAL) when a client routes or sends to it'),
  topics: json<Record<string, TopicSpec>>({}, 'topics created at start: { "<name>": "FIFO" | { "type": "DELAY", "queues": 8 } }', checkTopics),
  groups: json<Record<string, GroupSpec>>({}, 'consumer groups: { "<name>": { "fifo": true, "retry": { "maxAttempts": 17, "backoffMs": [..] | { "initialMs", "maxMs", "multiplier" } } } }', checkGroups),
  maxBodyBytes: field.integer(4 * 1024 * 1024, 'largest message body a producer may send', { min: 1, max: 128 * 1024 * 1024 }),
  maxPropertiesBytes: field.integer(16 * 1024, 'largest total size of a message\'s user properties', { min: 1 }),
  maxDelayMs: field.integer(24 * 3600 * 1000, 'furthest delivery time a delayed message may ask for', { min: 1 }),
  pushInvisibleMs: field.integer(60_000, 'invisibility of a push consumer\'s message (auto-renewed while the client lives)', { min: 1000 }),
  renewMaxMs: field.integer(3 * 3600 * 1000, 'how long auto-renewal keeps a message invisible at most', { min: 1000 }),
  clientTimeoutMs: field.integer(120_000, 'a client with no heartbeat, RPC or telemetry stream for this long is gone', { min: 1000 }),
  dlqPermission: field.oneOf(['read-write', 'write'], 'read-write', 'permission of %DLQ% topics: read-write (RocketMQ >= 4.9.2) or write (legacy, not consumable)'),
  transactionCheckDelayMs: field.integer(6000, 'age of an unresolved half message before its first check-back', { min: 1 }),
  transactionCheckIntervalMs: field.integer(30_000, 'time between check-backs of an unresolved half message', { min: 1 }),
  transactionCheckMax: field.integer(15, 'check-backs before an unresolved half message is discarded', { min: 1 }),
  maxLongPollingMs: field.integer(30_000, 'longest a ReceiveMessage call waits for messages', { min: 0 }),
  maxConnections: field.integer(0, 'gRPC connections accepted at once; 0: as many as the shared --max-connections allows', { min: 0 }),
  handshakeTimeoutMs: field.integer(10_000, 'a connection must send the HTTP/2 preface within this time', { min: 100 }),
  idleTimeoutMs: field.integer(120_000, 'close a connection with no call in progress for this long (the proxy\'s grpcClientIdleTimeMills)', { min: 100 }),
  keepaliveTimeMs: field.integer(60_000, 'ping each connection this often; one that does not answer within keepaliveTimeoutMs is closed', { min: 100 }),
  keepaliveTimeoutMs: field.integer(20_000, 'how long a ping may wait for its answer', { min: 100 }),
  drainTimeoutMs: field.integer(5000, 'how long stop waits for calls in progress', { min: 0 }),
};

export type RocketSettings = ValuesOf<typeof rocketConfigFields>;
