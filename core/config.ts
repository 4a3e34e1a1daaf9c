import { BrokerError } from './errors.ts';
import { LOG_LEVELS, type LogLevel } from './logging.ts';
import { MAX_SEGMENT_BYTES, defaultLogConfig, formatFlushPolicy, parseFlushPolicy, type FlushPolicy } from './storage/log-config.ts';

/** One configuration key: its default, what it means, and how a raw value (string from env/flags, or typed) becomes a value. */
export interface ConfigField<T = unknown> {
  readonly default: T;
  readonly description: string;
  coerce(value: unknown): T;
  /** The value a command-line flag given without one means (`--allow-anonymous` alone is `--allow-anonymous true`). */
  readonly flagAlone?: string;
}

export type SectionFields = Readonly<Record<string, ConfigField>>;
export type ValuesOf<F extends SectionFields> = { -readonly [K in keyof F]: F[K] extends ConfigField<infer T> ? T : never };

/** A plugin's configuration section, e.g. `kafka: { port }`, set by `--kafka-port` or `WHARF_KAFKA_PORT`. */
export interface ConfigSection<F extends SectionFields = SectionFields> {
  readonly name: string;
  readonly fields: F;
}

export interface ConfigLayer {
  /** Where the values came from, for error messages: `defaults`, a file path, `environment`, `flags`. */
  readonly source: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** Names this layer skipped because they match no key (unknown `WHARF_*` variables); the broker logs them once. */
  readonly ignored?: readonly string[];
}

export const field = {
  string(defaultValue: string, description: string): ConfigField<string> {
    return {
      default: defaultValue,
      description,
      coerce: (value) => {
        if (typeof value !== 'string') throw new Error('expected a string');
        return value;
      },
    };
  },
  integer(defaultValue: number, description: string, { min = -Infinity, max = Infinity } = {}): ConfigField<number> {
    return {
      default: defaultValue,
      description,
      coerce: (value) => {
        const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
        if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new Error('expected an integer');
        if (n < min || n > max) throw new Error(`expected an integer in [${min}, ${max}]`);
        return n;
      },
    };
  },
  boolean(defaultValue: boolean, description: string): ConfigField<boolean> {
    return {
      default: defaultValue,
      description,
      coerce: (value) => {
        if (value === true || value === 'true') return true;
        if (value === false || value === 'false') return false;
        throw new Error('expected true or false');
      },
    };
  },
  /** `auto` (decided from other settings), `true` or `false`; the flag alone means `true`. */
  switchOrAuto(description: string): ConfigField<'auto' | 'true' | 'false'> {
    return {
      default: 'auto',
      description,
      flagAlone: 'true',
      coerce: (value) => {
        if (value === true || value === false) return value ? 'true' : 'false';
        if (value === 'auto' || value === 'true' || value === 'false') return value;
        throw new Error('expected auto, true or false');
      },
    };
  },
  oneOf<T extends string>(values: readonly T[], defaultValue: T, description: string): ConfigField<T> {
    return {
      default: defaultValue,
      description,
      coerce: (value) => {
        if (typeof value !== 'string' || !values.includes(value as T)) throw new Error(`expected one of ${values.join(', ')}`);
        return value as T;
      },
    };
  },
  /** A listener port: 0 disables the listener, 'auto' lets the OS choose (tests, embedding). */
  port(defaultValue: number, description: string): ConfigField<number | 'auto'> {
    const integer = field.integer(defaultValue, description, { min: 0, max: 65535 });
    return { default: defaultValue, description, coerce: (value) => (value === 'auto' ? 'auto' : integer.coerce(value)) };
  },
  flush(defaultValue: FlushPolicy, description: string): ConfigField<FlushPolicy> {
    return {
      default: defaultValue,
      description,
      coerce: (value) => {
        if (typeof value === 'string') return parseFlushPolicy(value);
        if (value !== null && typeof value === 'object') return parseFlushPolicy(formatFlushPolicy(value as FlushPolicy));
        throw new Error('expected always, never or interval:<ms>');
      },
    };
  },
};

const DAY_MS = 24 * 60 * 60 * 1000;

export const topicDefaultFields = {
  partitions: field.integer(1, 'partitions of a topic created without a count', { min: 1, max: 100_000 }),
  flush: field.flush(defaultLogConfig.flush, 'when appends are synced to disk: always (group commit before the ack), interval:<ms>, never'),
  segmentBytes: field.integer(defaultLogConfig.segmentBytes, 'roll a segment at this size', { min: 1024, max: MAX_SEGMENT_BYTES }),
  segmentMs: field.integer(defaultLogConfig.segmentMs, 'roll a segment at this age', { min: 1 }),
  retentionMs: field.integer(7 * DAY_MS, 'delete segments whose newest record is older; -1 keeps forever', { min: -1 }),
  retentionBytes: field.integer(-1, 'delete the oldest segments while a partition is larger; -1 means no limit', { min: -1 }),
  indexIntervalBytes: field.integer(defaultLogConfig.indexIntervalBytes, 'bytes between sparse offset-index entries', { min: 1 }),
  retentionCheckIntervalMs: field.integer(300_000, 'how often retention runs', { min: 10 }),
  logCleanerBackoffMs: field.integer(15_000, 'how often the log cleaner looks for compacted logs due for cleaning (log.cleaner.backoff.ms)', { min: 10 }),
  fileDeleteDelayMs: field.integer(60_000, 'how long the files of segments a compaction replaced stay aside before they are deleted (file.delete.delay.ms)', { min: 0 }),
  logCleanerIoMaxBytesPerSecond: field.integer(128 * 1024 * 1024, 'bytes a cleaning pass reads and writes per second at most, 0 for no limit (log.cleaner.io.max.bytes.per.second; Kafka has no limit by default)', { min: 0 }),
  logCleanerThreads: field.integer(1, "1: the cleaner decodes and filters records on a thread of its own (log.cleaner.threads); 0: on the event loop, in slices of a few ms", { min: 0, max: 1 }),
  replicationFactor: field.integer(3, 'replicas of a new cluster topic created without a count (at most the live brokers); 1 on a single node', { min: 1, max: 100 }),
  minInsyncReplicas: field.integer(1, 'acks=all appends are refused while fewer replicas are in sync (min.insync.replicas)', { min: 1, max: 100 }),
} as const;

export const replicationFields = {
  port: field.port(9095, 'cluster mode: the port followers fetch from (replication listener)'),
  lagMaxMs: field.integer(30_000, 'a follower that has not caught up for this long leaves the ISR (replica.lag.time.max.ms)', { min: 10 }),
  fetchMaxWaitMs: field.integer(500, 'how long a leader holds a follower fetch that finds nothing new (replica.fetch.wait.max.ms)', { min: 0 }),
  uncleanLeaderElection: field.boolean(false, 'elect a replica outside the ISR when no in-sync replica is alive (may lose acknowledged data)'),
  leaderRebalanceIntervalMs: field.integer(60_000, 'how often the controller moves leaderships back to preferred replicas that are in sync (auto.leader.rebalance); 0 never', { min: 0 }),
  offsetsPartitions: field.integer(16, 'cluster mode: partitions of the replicated committed-offsets topic (offsets.topic.num.partitions)', { min: 1, max: 1000 }),
} as const;

export const groupFields = {
  assignor: field.string('sticky', 'the assignor groups use when the broker assigns partitions (range, roundrobin, sticky, or a plugin\'s)'),
  initialRebalanceDelayMs: field.integer(3000, 'how long the first rebalance of an empty group waits for more members', { min: 0 }),
  minSessionTimeoutMs: field.integer(6000, 'smallest session timeout a member may ask for', { min: 1 }),
  maxSessionTimeoutMs: field.integer(1_800_000, 'largest session timeout a member may ask for', { min: 1 }),
  offsetsRetentionMs: field.integer(7 * DAY_MS, 'committed offsets of an empty group expire this long after its last commit', { min: 1 }),
  offsetsRetentionCheckIntervalMs: field.integer(600_000, 'how often offset expiry runs', { min: 10 }),
} as const;

export const TLS_CLIENT_AUTH = ['none', 'request', 'require'] as const;

export const tlsFields = {
  cert: field.string('', 'PEM file with the server certificate (and its chain); with --tls-key it turns the TLS listeners on'),
  key: field.string('', 'PEM file with the private key of --tls-cert'),
  ca: field.string('', 'PEM file with the CA certificates client certificates are verified against'),
  clientAuth: field.oneOf(TLS_CLIENT_AUTH, 'none', 'client certificates: none (not asked for), request (verified when sent), require (a client without a valid one is refused)'),
  handshakeTimeoutMs: field.integer(5000, "a TLS connection must finish its handshake within this time (RabbitMQ's ssl_handshake_timeout)", { min: 100 }),
} as const;

export const securityFields = {
  superUsers: field.string('', "principals allowed everything whatever the ACLs say, separated by ';' or ',' (Kafka's super.users), e.g. User:admin"),
  allowEveryoneIfNoAclFound: field.switchOrAuto("allow a resource no ACL names to everyone (Kafka's allow.everyone.if.no.acl.found); auto: while anonymous access is allowed"),
  failedAuthenticationDelayMs: field.integer(100, "a failed login is answered (and its connection closed) this much later (connection.failed.authentication.delay.ms)", { min: 0, max: 60_000 }),
  scramIterations: field.integer(4096, 'PBKDF2 iterations of the SCRAM credentials Wharf derives from a password (4096-16384)', { min: 4096, max: 16384 }),
} as const;

export const coreConfigFields = {
  nodeId: field.integer(1, 'this broker\'s id: in Kafka Metadata, and its identity in a cluster', { min: 0, max: 2 ** 31 - 1 }),
  dataDir: field.string('./data', 'where storage-fs keeps its files'),
  storage: field.oneOf(['fs', 'memory'], 'fs', 'which storage plugin the default broker loads'),
  host: field.string('localhost', 'address listeners bind; localhost means both 127.0.0.1 and ::1'),
  logLevel: field.oneOf<LogLevel>([...LOG_LEVELS, 'silent'], 'info', 'pino log level'),
  diskFreeLimit: field.integer(50_000_000, "RabbitMQ's disk_free_limit: with fewer free bytes on the storage disk the broker is read-only (writes refused, reads served) until space returns", { min: 0 }),
  maxConnections: field.integer(0, 'connections all listeners may hold together; 0: (open-file limit - 100) x 0.9', { min: 0 }),
  allowAnonymous: field.switchOrAuto('serve clients that do not authenticate; auto: only when --host is loopback'),
} as const;

export const TOPICS_SECTION: ConfigSection<typeof topicDefaultFields> = { name: 'topics', fields: topicDefaultFields };
export const GROUPS_SECTION: ConfigSection<typeof groupFields> = { name: 'groups', fields: groupFields };
export const REPLICATION_SECTION: ConfigSection<typeof replicationFields> = { name: 'replication', fields: replicationFields };
export const TLS_SECTION: ConfigSection<typeof tlsFields> = { name: 'tls', fields: tlsFields };
export const SECURITY_SECTION: ConfigSection<typeof securityFields> = { name: 'security', fields: securityFields };

export type TopicDefaults = ValuesOf<typeof topicDefaultFields>;
export type GroupSettings = ValuesOf<typeof groupFields>;
export type ReplicationSettings = ValuesOf<typeof replicationFields>;
export type TlsSettings = ValuesOf<typeof tlsFields>;
export type TlsClientAuth = (typeof TLS_CLIENT_AUTH)[number];
export type SecuritySettings = ValuesOf<typeof securityFields>;
export type CoreConfig = ValuesOf<typeof coreConfigFields> & {
  topics: TopicDefaults;
  groups: GroupSettings;
  replication: ReplicationSettings;
  tls: TlsSettings;
  security: SecuritySettings;
};
/** The resolved configuration: core keys, `topics`, and one object per plugin section. */
export type BrokerConfig = CoreConfig & { readonly [section: string]: unknown };

export interface ConfigSchema {
  readonly core: SectionFields;
  readonly sections: ReadonlyMap<string, SectionFields>;
}

export function buildConfigSchema(sections: readonly ConfigSection[]): ConfigSchema {
  const map = new Map<string, SectionFields>([
    [TOPICS_SECTION.name, TOPICS_SECTION.fields],
    [GROUPS_SECTION.name, GROUPS_SECTION.fields],
    [REPLICATION_SECTION.name, REPLICATION_SECTION.fields],
    [TLS_SECTION.name, TLS_SECTION.fields],
    [SECURITY_SECTION.name, SECURITY_SECTION.fields],
  ]);
  for (const section of sections) {
    if (map.has(section.name) || section.name in coreConfigFields) {
      throw new BrokerError('PLUGIN_INVALID', `configuration section ${section.name} is declared twice`);
    }
    map.set(section.name, section.fields);
  }
  return { core: coreConfigFields, sections: map };
}

/** Merges layers over the defaults (later layers win) and rejects unknown keys and bad values. */
export function resolveConfig(schema: ConfigSchema, layers: readonly ConfigLayer[]): BrokerConfig {
  const result: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(schema.core)) result[key] = f.default;
  for (const [name, fields] of schema.sections) {
    result[name] = Object.fromEntries(Object.entries(fields).map(([key, f]) => [key, f.default]));
  }
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values)) {
      if (value === undefined) continue;
      const coreField = schema.core[key];
      if (coreField) {
        result[key] = coerce(coreField, value, key, layer.source);
        continue;
      }
      const fields = schema.sections.get(key);
      if (!fields) throw unknownKey(key, layer.source, schema);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new BrokerError('CONFIG_INVALID', `${layer.source}: ${key} must be an object`);
      }
      const section = result[key] as Record<string, unknown>;
      for (const [subKey, subValue] of Object.entries(value)) {
        if (subValue === undefined) continue;
        const subField = fields[subKey];
        if (!subField) throw unknownKey(`${key}.${subKey}`, layer.source, schema);
        section[subKey] = coerce(subField, subValue, `${key}.${subKey}`, layer.source);
      }
    }
  }
  return result as BrokerConfig;
}

/**
 * Maps `--kafka-port 9093`, `--kafka-port=9093` and `--data-dir x` onto the schema: a leading word
 * that names a section selects it, the rest is the key in camelCase. `--config` is not a key.
 */
export function layerFromFlags(argv: readonly string[], schema: ConfigSchema): ConfigLayer {
  const values: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new BrokerError('CONFIG_INVALID', `unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const at = name === 'config' ? undefined : locate(name.split('-'), schema);
    const alone = at && eq < 0 && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--')) ? fieldAt(at, schema)?.flagAlone : undefined;
    const value = eq >= 0 ? arg.slice(eq + 1) : (alone ?? argv[++i]);
    if (value === undefined) throw new BrokerError('CONFIG_INVALID', `flag --${name} needs a value`);
    if (name === 'config') continue;
    if (!at) throw unknownKey(`--${name}`, 'flags', schema);
    assign(values, at, value);
  }
  return { source: 'flags', values };
}

/**
 * Maps `WHARF_KAFKA_PORT=9093` like the flag `--kafka-port 9093`; WHARF_CONFIG names the config file, and
 * WHARF_FROM_SOURCES is the CLI launcher's (bin/wharf.js), not a config key.
 * A `WHARF_*` variable that names no key is skipped and listed in `ignored`, not an error: a shell may
 * export variables meant for something else.
 */
export function layerFromEnv(env: Readonly<Record<string, string | undefined>>, schema: ConfigSchema): ConfigLayer {
  const values: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('WHARF_') || value === undefined || name === 'WHARF_CONFIG' || name === 'WHARF_FROM_SOURCES') continue;
    const at = locate(name.slice(6).toLowerCase().split('_'), schema);
    if (at) assign(values, at, value);
    else ignored.push(name);
  }
  return { source: 'environment', values, ...(ignored.length > 0 ? { ignored } : {}) };
}

/** The value of `--config <file>` / `--config=<file>`, else WHARF_CONFIG. */
export function configFileFrom(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--config') return argv[i + 1];
    if (argv[i]!.startsWith('--config=')) return argv[i]!.slice('--config='.length);
  }
  return env.WHARF_CONFIG;
}

/** Every flag the schema accepts, for help texts and error messages. */
export function describeFlags(schema: ConfigSchema): Array<{ flag: string; description: string; default: unknown }> {
  const out = Object.entries(schema.core).map(([key, f]) => ({ flag: `--${kebab(key)}`, description: f.description, default: f.default }));
  for (const [name, fields] of schema.sections) {
    for (const [key, f] of Object.entries(fields)) out.push({ flag: `--${kebab(name)}-${kebab(key)}`, description: f.description, default: f.default });
  }
  return out;
}

function locate(words: string[], schema: ConfigSchema): string[] | undefined {
  for (let split = words.length - 1; split >= 1; split--) {
    const section = camel(words.slice(0, split));
    const key = camel(words.slice(split));
    if (schema.sections.get(section)?.[key]) return [section, key];
  }
  const key = camel(words);
  return schema.core[key] ? [key] : undefined;
}

function fieldAt(at: readonly string[], schema: ConfigSchema): ConfigField | undefined {
  return at.length === 1 ? schema.core[at[0]!] : schema.sections.get(at[0]!)?.[at[1]!];
}

function assign(values: Record<string, unknown>, at: string[], value: unknown): void {
  if (at.length === 1) {
    values[at[0]!] = value;
    return;
  }
  const section = (values[at[0]!] ??= {}) as Record<string, unknown>;
  section[at[1]!] = value;
}

function coerce(f: ConfigField, value: unknown, key: string, source: string): unknown {
  try {
    return f.coerce(value);
  } catch (err) {
    throw new BrokerError('CONFIG_INVALID', `${source}: ${key} = ${JSON.stringify(value)}: ${(err as Error).message}`, { cause: err });
  }
}

function unknownKey(key: string, source: string, schema: ConfigSchema): BrokerError {
  const known = describeFlags(schema).map((f) => f.flag).join(' ');
  return new BrokerError('CONFIG_UNKNOWN_KEY', `${source}: unknown configuration key ${key} (known flags: ${known})`);
}

function camel(words: readonly string[]): string {
  return words.map((w, i) => (i === 0 ? w.toLowerCase() : w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())).join('');
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
