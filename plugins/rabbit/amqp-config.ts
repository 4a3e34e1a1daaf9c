import { BrokerError, field, type ConfigField } from '../../core/index.ts';
import { DEFAULT_DEAD_LETTER_SETTLE_TIMEOUT_MS } from './model/dead-letter-worker.ts';

export interface UserSpec {
  name: string;
  /** The password, or instead `passwordHash`: RabbitMQ's rabbit_password_hashing_sha256 form (as `rabbitmqctl export_definitions` writes it). */
  password?: string;
  passwordHash?: string;
  /** Only from 127.0.0.1 / ::1, like RabbitMQ's loopback_users. */
  loopbackOnly?: boolean;
  /** RabbitMQ's user tags; the management API needs one of management, policymaker, monitoring, administrator. */
  tags?: string[];
  /** vhost -> configure / write / read regular expressions. */
  permissions: Record<string, { configure: string; write: string; read: string }>;
}

const GUEST: UserSpec = { name: 'guest', password: 'guest', loopbackOnly: true, tags: ['administrator'], permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } };

function json<T>(defaultValue: T, description: string, check: (value: unknown) => T): ConfigField<T> {
  return {
    default: defaultValue,
    description,
    coerce: (value) => check(typeof value === 'string' ? JSON.parse(value) : value),
  };
}

function checkUsers(value: unknown): UserSpec[] {
  if (!Array.isArray(value)) throw new BrokerError('CONFIG_INVALID', 'amqp.users must be an array');
  for (const user of value as UserSpec[]) {
    if (typeof user?.name !== 'string' || (typeof user.password !== 'string') === (typeof user.passwordHash !== 'string') || typeof user.permissions !== 'object') {
      throw new BrokerError('CONFIG_INVALID', 'each amqp user needs name, password or passwordHash, and permissions');
    }
    if (user.tags !== undefined && !(Array.isArray(user.tags) && user.tags.every((t) => typeof t === 'string'))) {
      throw new BrokerError('CONFIG_INVALID', `amqp user ${user.name}: tags must be an array of strings`);
    }
  }
  return value as UserSpec[];
}

function checkNames(what: string): (value: unknown) => string[] {
  return (value) => {
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new BrokerError('CONFIG_INVALID', `${what} must be an array of names`);
    return value as string[];
  };
}

export const amqpConfigFields = {
  port: field.port(5672, 'AMQP 0-9-1 listener port; 0 disables it'),
  tlsPort: field.port(5671, 'AMQPS (AMQP 0-9-1 over TLS) listener port, served when --tls-cert and --tls-key are given; 0 disables it'),
  sslCertLoginFrom: field.oneOf(['distinguished_name', 'common_name'], 'distinguished_name', "the user EXTERNAL logs in as: the client certificate's subject DN, or its CN (RabbitMQ's ssl_cert_login_from)"),
  frameMax: field.integer(131072, 'largest frame the server accepts and offers in connection.tune', { min: 4096, max: 4 * 1024 * 1024 }),
  channelMax: field.integer(2047, 'most channels per connection', { min: 1, max: 65535 }),
  heartbeat: field.integer(60, 'heartbeat seconds offered in connection.tune; 0 disables', { min: 0, max: 65535 }),
  maxConnections: field.integer(0, 'AMQP connections accepted at once; 0: as many as the shared --max-connections allows', { min: 0 }),
  handshakeTimeoutMs: field.integer(10_000, 'a connection must finish the handshake within this time', { min: 100 }),
  maxMessageBytes: field.integer(128 * 1024 * 1024, 'largest message body accepted', { min: 1024 }),
  segmentBytes: field.integer(64 * 1024 * 1024, 'segment size of queue logs (fully acked segments are reclaimed whole)', { min: 64 * 1024 }),
  memoryHighWatermark: field.integer(0, 'block publishers (connection.blocked) when the process RSS exceeds this many bytes; 0: 40% of RAM', { min: 0 }),
  users: json<UserSpec[]>([GUEST], 'users the security store does not hold, as JSON: [{name, password or passwordHash, loopbackOnly, tags: ["administrator"], permissions: {vhost: {configure, write, read}}}]', checkUsers),
  loopbackUsers: json<string[]>(['guest'], "users that may connect only from a loopback address, as a JSON array (RabbitMQ's loopback_users; [] for none)", checkNames('amqp.loopbackUsers')),
  vhosts: json<string[]>(['/'], 'virtual hosts as a JSON array', checkNames('amqp.vhosts')),
  deadLetterWorkerPublisherConfirmTimeoutMs: field.integer(DEFAULT_DEAD_LETTER_SETTLE_TIMEOUT_MS, "at-least-once dead-lettering of quorum queues: how long a dead letter waits for its target queues before it is published again, and how often they are checked (RabbitMQ's dead_letter_worker_publisher_confirm_timeout)", { min: 1 }),
  drainTimeoutMs: field.integer(5000, 'how long a stopping broker waits for in-flight work', { min: 0 }),
} as const;
