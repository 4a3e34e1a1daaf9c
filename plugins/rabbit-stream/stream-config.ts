import { BrokerError, field, type ConfigField } from '../../core/index.ts';

export interface StreamUserSpec {
  name: string;
  password?: string;
  /** RabbitMQ's rabbit_password_hashing_sha256 form, instead of `password`. */
  passwordHash?: string;
  loopbackOnly?: boolean;
  /** vhost -> configure / write / read regular expressions. */
  permissions: Record<string, { configure: string; write: string; read: string }>;
}

const GUEST: StreamUserSpec = { name: 'guest', password: 'guest', loopbackOnly: true, permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } };

function json<T>(defaultValue: T, description: string, check: (value: unknown) => T): ConfigField<T> {
  return { default: defaultValue, description, coerce: (value) => check(typeof value === 'string' ? JSON.parse(value) : value) };
}

function checkUsers(value: unknown): StreamUserSpec[] {
  if (!Array.isArray(value)) throw new BrokerError('CONFIG_INVALID', 'stream.users must be an array');
  for (const user of value as StreamUserSpec[]) {
    if (typeof user?.name !== 'string' || (typeof user.password !== 'string') === (typeof user.passwordHash !== 'string') || typeof user.permissions !== 'object') {
      throw new BrokerError('CONFIG_INVALID', 'each stream user needs name, password or passwordHash, and permissions');
    }
  }
  return value as StreamUserSpec[];
}

function checkNames(what: string): (value: unknown) => string[] {
  return (value) => {
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new BrokerError('CONFIG_INVALID', `${what} must be an array of names`);
    return value as string[];
  };
}

export const streamConfigFields = {
  port: field.port(5552, 'RabbitMQ Stream protocol listener port; 0 disables it'),
  tlsPort: field.port(5551, 'RabbitMQ Stream protocol over TLS, served when --tls-cert and --tls-key are given; 0 disables it'),
  frameMax: field.integer(1_048_576, 'largest frame the server accepts and offers in Tune', { min: 8192, max: 64 * 1024 * 1024 }),
  heartbeat: field.integer(60, 'heartbeat seconds offered in Tune; 0 disables', { min: 0, max: 65535 }),
  maxConnections: field.integer(0, 'stream connections accepted at once; 0: as many as the shared --max-connections allows', { min: 0 }),
  advertisedHost: field.string('', 'the host Metadata and Open announce; empty: the address the client connected to'),
  users: json<StreamUserSpec[]>([GUEST], 'users the security store does not hold, as JSON: [{name, password or passwordHash, loopbackOnly, permissions: {vhost: {configure, write, read}}}]', checkUsers),
  loopbackUsers: json<string[]>(['guest'], 'users that may connect only from a loopback address, as a JSON array', checkNames('stream.loopbackUsers')),
  vhosts: json<string[]>(['/'], 'virtual hosts as a JSON array', checkNames('stream.vhosts')),
  refusalDelayMs: field.integer(3000, 'a failed login or virtual host is answered after this delay, then closed (RabbitMQ\'s tarpit)', { min: 0 }),
  drainTimeoutMs: field.integer(5000, 'how long a stopping broker waits for in-flight work', { min: 0 }),
} as const;

export interface StreamSettings {
  port: number | 'auto';
  tlsPort: number | 'auto';
  frameMax: number;
  heartbeat: number;
  maxConnections: number;
  advertisedHost: string;
  users: StreamUserSpec[];
  loopbackUsers: string[];
  vhosts: string[];
  refusalDelayMs: number;
  drainTimeoutMs: number;
}
