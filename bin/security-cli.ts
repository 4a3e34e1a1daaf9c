import { randomBytes } from 'node:crypto';
import {
  BrokerError,
  checkAcl,
  checkPrincipal,
  createBroker,
  newScramCredential,
  OPERATIONS,
  saltPassword,
  SCRAM_MECHANISMS,
  TOKENS,
  WILDCARD,
  type AclBinding,
  type AclFilter,
  type AclOperation,
  type Broker,
  type Security,
  type User,
} from '../core/index.ts';
import { ApiKeys } from '../plugins/kafka/codec/index.ts';
import { SCRAM_MECHANISM_CODES } from '../plugins/kafka/handlers/alter-user-scram-credentials.ts';
import { aclBindingOf, CLUSTER_NAME, kafkaCodes, KAFKA_OPERATIONS, KAFKA_PATTERN_TYPES, KAFKA_PERMISSIONS, KAFKA_RESOURCE_TYPES } from '../plugins/kafka/security/acl-codes.ts';
import { permissionBindings, topicPermissionBindings, topicScope } from '../plugins/rabbit/auth.ts';
import { fsStorage } from '../plugins/storage-fs/index.ts';
import { KafkaAdminClient } from './kafka-admin-client.ts';

export const SECURITY_USAGE = `       wharf users add <name> (--password <pw> | --password-hash <rabbitmq hash>) [--super-user] [--iterations 4096]
       wharf users delete <name>
       wharf users list
       wharf acls add --principal User:<name> [--deny] [--host <ip>|*] RESOURCE
              RESOURCE: --operation read,write,... (--topic N | --group N | --transactional-id N | --cluster) [--prefixed]
                      | --vhost V --configure RE --write RE --read RE       (RabbitMQ set_permissions)
                      | --vhost V --exchange X --write RE --read RE        (RabbitMQ set_topic_permissions)
       wharf acls list [--principal P] [RESOURCE]
       wharf acls remove [--principal P] [--operation O] [RESOURCE]      removes every binding that matches
         each against --data-dir <dir> (the broker stopped) or --bootstrap-server <host:port> (a running broker's
         Kafka listener; with --admin-user/--admin-password [--mechanism SCRAM-SHA-512|SCRAM-SHA-256|PLAIN] when it requires SASL)`;

/** What a users/acls command changes or reads: the stored security data, or a running broker. */
interface SecurityTarget {
  addUser(name: string, secret: { password?: string; passwordHash?: string }, options: { superUser: boolean; iterations: number }): Promise<void>;
  deleteUser(name: string): Promise<void>;
  listUsers(): Promise<Array<{ name: string; credentials: string[]; superUser: boolean }>>;
  addAcls(acls: AclBinding[]): Promise<void>;
  listAcls(filters: AclFilter[]): Promise<AclBinding[]>;
  removeAcls(filters: AclFilter[]): Promise<AclBinding[]>;
  close(): Promise<void>;
}

/** `wharf users …` and `wharf acls …`; resolves with the text to print. */
export async function runSecurityCommand(command: 'users' | 'acls', argv: readonly string[]): Promise<string> {
  const { positional, flags } = parseFlags(argv);
  const target = await openTarget(flags);
  try {
    return command === 'users' ? await users(target, positional, flags) : await acls(target, positional, flags);
  } finally {
    await target.close();
  }
}

type Flags = Map<string, string>;
const SWITCHES = new Set(['--super-user', '--deny', '--cluster', '--prefixed']);

function parseFlags(argv: readonly string[]): { positional: string[]; flags: Flags } {
  const positional: string[] = [];
  const flags: Flags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) positional.push(arg);
    else if (SWITCHES.has(arg)) flags.set(arg, 'true');
    else if (arg.includes('=')) flags.set(arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1));
    else {
      const value = argv[++i];
      if (value === undefined) throw usage(`${arg} needs a value`);
      flags.set(arg, value);
    }
  }
  return { positional, flags };
}

const usage = (message: string): BrokerError => new BrokerError('CONFIG_INVALID', `${message}\nusage:\n${SECURITY_USAGE}`);

async function users(target: SecurityTarget, [action, name]: string[], flags: Flags): Promise<string> {
  if (action === 'list') {
    const all = await target.listUsers();
    return all.map((u) => `${u.name}\t${u.credentials.join(',')}${u.superUser ? '\tsuper-user' : ''}`).join('\n');
  }
  if (name === undefined || name === '') throw usage(`users ${action ?? ''} needs a user name`);
  if (action === 'add') {
    const password = flags.get('--password');
    const passwordHash = flags.get('--password-hash');
    if ((password === undefined) === (passwordHash === undefined)) throw usage('users add needs --password or --password-hash');
    const iterations = Number(flags.get('--iterations') ?? 4096);
    await target.addUser(name, { password, passwordHash }, { superUser: flags.has('--super-user'), iterations });
    return `user ${name} added`;
  }
  if (action === 'delete') {
    await target.deleteUser(name);
    return `user ${name} deleted`;
  }
  throw usage(`unknown users command ${action ?? ''}`);
}

async function acls(target: SecurityTarget, [action]: string[], flags: Flags): Promise<string> {
  if (action === 'add') {
    const bindings = bindingsOf(flags);
    await target.addAcls(bindings);
    return bindings.map(describeAcl).join('\n');
  }
  if (action === 'list') return (await target.listAcls(filtersOf(flags))).map(describeAcl).join('\n');
  if (action === 'remove') {
    const removed = await target.removeAcls(filtersOf(flags));
    return removed.length === 0 ? 'no binding matched' : removed.map((acl) => `removed ${describeAcl(acl)}`).join('\n');
  }
  throw usage(`unknown acls command ${action ?? ''}`);
}

/** One line per binding: `allow User:alice read topic orders (literal) from *`. */
export function describeAcl(acl: AclBinding): string {
  const scope = acl.scope === undefined ? '' : ` in ${acl.resourceType === 'routing-key' ? topicScopeText(acl.scope) : `vhost ${acl.scope}`}`;
  return `${acl.permission} ${acl.principal} ${acl.operation} ${acl.resourceType} ${acl.resourceName} (${acl.patternType})${scope} from ${acl.host}`;
}

/** `exchange X of vhost V` for a topic-permission scope (`topicScope`). */
function topicScopeText(scope: string): string {
  try {
    const [vhost, exchange] = JSON.parse(scope) as [string, string];
    return `exchange ${exchange} of vhost ${vhost}`;
  } catch {
    return scope;
  }
}

function bindingsOf(flags: Flags): AclBinding[] {
  const principal = flags.get('--principal');
  if (principal === undefined) throw usage('acls add needs --principal User:<name>');
  checkPrincipal(principal);
  const vhost = flags.get('--vhost');
  if (vhost !== undefined) {
    const user = principal.slice(principal.indexOf(':') + 1);
    const exchange = flags.get('--exchange');
    const expression = (name: string) => flags.get(name) ?? '';
    const bindings = exchange === undefined
      ? permissionBindings(user, vhost, { configure: expression('--configure'), write: expression('--write'), read: expression('--read') })
      : topicPermissionBindings(user, vhost, exchange, { write: expression('--write'), read: expression('--read') });
    return bindings.map((acl) => checkAcl({ ...acl, principal }));
  }
  const operations = (flags.get('--operation') ?? '').split(',').filter((o) => o !== '');
  if (operations.length === 0) throw usage('acls add needs --operation (or --vhost for AMQP permissions)');
  const resource = resourceOf(flags);
  if (!resource) throw usage('acls add needs --topic, --group, --transactional-id or --cluster');
  return operations.map((operation) =>
    checkAcl({
      ...resource,
      patternType: flags.has('--prefixed') ? 'prefixed' : 'literal',
      principal,
      host: flags.get('--host') ?? WILDCARD,
      operation: operationOf(operation),
      permission: flags.has('--deny') ? 'deny' : 'allow',
    }),
  );
}

/** The filters a list or remove selects by; `--vhost V` alone selects V's permissions: the bindings scoped to it and the one opening it. */
function filtersOf(flags: Flags): AclFilter[] {
  const vhost = flags.get('--vhost');
  const exchange = flags.get('--exchange');
  const resource = resourceOf(flags);
  const operation = flags.get('--operation');
  const base: AclFilter = {
    ...(flags.has('--principal') ? { principal: checkPrincipal(flags.get('--principal')!) } : {}),
    ...(flags.has('--host') ? { host: flags.get('--host')! } : {}),
    ...(operation !== undefined ? { operation: operationOf(operation) } : {}),
    ...(resource ?? {}),
    ...(resource && flags.has('--prefixed') ? { patternType: 'prefixed' as const } : {}),
  };
  if (vhost === undefined) return [base];
  if (exchange !== undefined) return [{ ...base, resourceType: 'routing-key', scope: topicScope(vhost, exchange) }];
  return [{ ...base, scope: vhost }, { ...base, resourceType: 'vhost', resourceName: vhost, scope: '' }];
}

function resourceOf(flags: Flags): { resourceType: string; resourceName: string } | undefined {
  if (flags.has('--cluster')) return { resourceType: 'cluster', resourceName: CLUSTER_NAME };
  for (const type of ['topic', 'group', 'transactional-id']) {
    const name = flags.get(`--${type}`);
    if (name !== undefined) return { resourceType: type, resourceName: name };
  }
  return undefined;
}

function operationOf(text: string): AclOperation {
  const operation = text.toLowerCase().replaceAll('_', '-') as AclOperation;
  if (!OPERATIONS.includes(operation)) throw usage(`unknown operation ${text} (one of ${OPERATIONS.join(', ')})`);
  return operation;
}

async function openTarget(flags: Flags): Promise<SecurityTarget> {
  const dataDir = flags.get('--data-dir');
  const bootstrap = flags.get('--bootstrap-server');
  if ((dataDir === undefined) === (bootstrap === undefined)) throw usage('give --data-dir (broker stopped) or --bootstrap-server (broker running)');
  if (dataDir !== undefined) return DataDirTarget.open(dataDir);
  const user = flags.get('--admin-user');
  const login = user === undefined ? undefined : { user, password: flags.get('--admin-password') ?? '', mechanism: flags.get('--mechanism') ?? 'SCRAM-SHA-512' };
  return new KafkaTarget(await KafkaAdminClient.connect(bootstrap!, login));
}

/** The users and ACLs in a stopped broker's data directory, changed through the same store the broker reads. */
class DataDirTarget implements SecurityTarget {
  private constructor(
    private readonly broker: Broker,
    private readonly security: Security,
  ) {}

  static async open(dataDir: string): Promise<DataDirTarget> {
    const broker = await createBroker({ plugins: [fsStorage()], config: { dataDir, logLevel: 'silent', topics: { flush: 'always' } } });
    await broker.start();
    return new DataDirTarget(broker, broker.get<Security>(TOKENS.Security));
  }

  async addUser(name: string, { password, passwordHash }: { password?: string; passwordHash?: string }, { superUser, iterations }: { superUser: boolean; iterations: number }): Promise<void> {
    const scram = password === undefined ? undefined : Object.fromEntries(await Promise.all(SCRAM_MECHANISMS.map(async (m) => [m, await newScramCredential(m, password, iterations)] as const)));
    const user: User = { name, ...(scram ? { scram } : { passwordHash }), ...(superUser ? { superUser } : {}) };
    await this.security.store.updateUser(name, (old) => ({ ...(old?.tags ? { tags: old.tags } : {}), ...(old?.secretKey ? { secretKey: old.secretKey } : {}), ...user }));
  }

  async deleteUser(name: string): Promise<void> {
    if (!this.security.store.user(name)) throw new BrokerError('NOT_FOUND', `no user ${name}`);
    await this.security.store.updateUser(name, () => undefined);
  }

  async listUsers(): Promise<Array<{ name: string; credentials: string[]; superUser: boolean }>> {
    return [...this.security.store.users()]
      .map((u) => ({ name: u.name, credentials: credentialsOf(u), superUser: u.superUser === true }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  addAcls(acls: AclBinding[]): Promise<void> {
    return this.security.addAcls(acls);
  }

  async listAcls(filters: AclFilter[]): Promise<AclBinding[]> {
    return [...new Set(filters.flatMap((filter) => this.security.authorizer.acls(filter)))];
  }

  async removeAcls(filters: AclFilter[]): Promise<AclBinding[]> {
    return [...new Set((await this.security.removeAcls(filters)).flat())];
  }

  close(): Promise<void> {
    return this.broker.stop();
  }
}

function credentialsOf(user: User): string[] {
  return [
    ...SCRAM_MECHANISMS.filter((m) => user.scram?.[m] !== undefined),
    ...(user.passwordHash !== undefined ? ['rabbit_password_hashing_sha256'] : []),
    ...(user.secretKey !== undefined ? ['rocketmq-secret-key'] : []),
  ];
}

/**
 * A running broker, over its Kafka listener: users through Alter/DescribeUserScramCredentials (the
 * password is salted here, as Kafka's admin client does), ACLs through Create/Describe/DeleteAcls. What
 * Kafka's APIs cannot express (AMQP permissions, RabbitMQ hashes, super users) needs --data-dir.
 */
class KafkaTarget implements SecurityTarget {
  constructor(private readonly client: KafkaAdminClient) {}

  async addUser(name: string, { password }: { password?: string }, { superUser, iterations }: { superUser: boolean; iterations: number }): Promise<void> {
    if (password === undefined || superUser) throw offlineOnly('--password-hash and --super-user');
    const upsertions = await Promise.all(
      SCRAM_MECHANISMS.map(async (m) => {
        const salt = randomBytes(24);
        return { name, mechanism: SCRAM_MECHANISM_CODES.get(m)!, iterations, salt, saltedPassword: await saltPassword(m, password, salt, iterations) };
      }),
    );
    // One credential per user per request (Kafka refuses a second as DUPLICATE_RESOURCE).
    for (const upsertion of upsertions) checkResults(await this.client.request(ApiKeys.AlterUserScramCredentials, 0, { deletions: [], upsertions: [upsertion] }));
  }

  async deleteUser(name: string): Promise<void> {
    const described = await this.client.request(ApiKeys.DescribeUserScramCredentials, 0, { users: [{ name }] });
    const result = described.results[0];
    if (!result || result.errorCode !== 0) throw new BrokerError('NOT_FOUND', result?.errorMessage ?? `no user ${name}`);
    for (const { mechanism } of result.credentialInfos) checkResults(await this.client.request(ApiKeys.AlterUserScramCredentials, 0, { deletions: [{ name, mechanism }], upsertions: [] }));
  }

  async listUsers(): Promise<Array<{ name: string; credentials: string[]; superUser: boolean }>> {
    const described = await this.client.request(ApiKeys.DescribeUserScramCredentials, 0, { users: null });
    if (described.errorCode !== 0) throw new BrokerError('AUTHENTICATION_FAILED', described.errorMessage ?? `error ${described.errorCode}`);
    const mechanismName = new Map([...SCRAM_MECHANISM_CODES].map(([m, c]) => [c, m]));
    return described.results
      .map((r) => ({ name: r.user, credentials: r.credentialInfos.map((c) => mechanismName.get(c.mechanism) ?? `mechanism ${c.mechanism}`), superUser: false }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async addAcls(acls: AclBinding[]): Promise<void> {
    const creations = acls.map((acl) => {
      const codes = kafkaCodes(acl);
      if (!codes) throw offlineOnly('AMQP permissions');
      return { resourceType: codes.resourceType, resourceName: codes.resourceName, resourcePatternType: codes.patternType, principal: codes.principal, host: codes.host, operation: codes.operation, permissionType: codes.permissionType };
    });
    const response = await this.client.request(ApiKeys.CreateAcls, 1, { creations });
    const failed = response.results.find((r) => r.errorCode !== 0);
    if (failed) throw new BrokerError('INVALID_REQUEST', failed.errorMessage ?? `error ${failed.errorCode}`);
  }

  async listAcls([filter]: AclFilter[]): Promise<AclBinding[]> {
    const response = await this.client.request(ApiKeys.DescribeAcls, 1, kafkaFilter(filter!));
    if (response.errorCode !== 0) throw new BrokerError('INVALID_REQUEST', response.errorMessage ?? `error ${response.errorCode}`);
    return response.resources.flatMap((r) =>
      r.acls.map((a) => bindingOf({ resourceType: r.resourceType, resourceName: r.resourceName, patternType: r.patternType, principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType })),
    );
  }

  async removeAcls([filter]: AclFilter[]): Promise<AclBinding[]> {
    const response = await this.client.request(ApiKeys.DeleteAcls, 1, { filters: [kafkaFilter(filter!)] });
    const result = response.filterResults[0]!;
    if (result.errorCode !== 0) throw new BrokerError('INVALID_REQUEST', result.errorMessage ?? `error ${result.errorCode}`);
    return result.matchingAcls.map((m) => bindingOf({ ...m, patternType: m.patternType }));
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

const offlineOnly = (what: string): BrokerError => new BrokerError('NOT_SUPPORTED', `${what} cannot be set over Kafka's APIs: stop the broker and use --data-dir`);

function checkResults(response: { results: Array<{ user: string; errorCode: number; errorMessage: string | null }> }): void {
  const failed = response.results.find((r) => r.errorCode !== 0);
  if (failed) throw new BrokerError('INVALID_CREDENTIAL', `${failed.user}: ${failed.errorMessage ?? `error ${failed.errorCode}`}`);
}

const codeOf = <T>(map: ReadonlyMap<number, T>, value: T | undefined, otherwise: number): number => {
  for (const [code, v] of map) if (v === value) return code;
  return otherwise;
};

/** A core filter in Kafka's codes (ANY = 1 where it names nothing); AMQP filters cannot be sent. */
function kafkaFilter(filter: AclFilter) {
  if (filter.scope !== undefined || filter.resourceType === 'vhost') throw offlineOnly('AMQP permissions');
  const ANY = 1;
  return {
    resourceTypeFilter: codeOf(KAFKA_RESOURCE_TYPES, filter.resourceType, ANY),
    resourceNameFilter: filter.resourceName ?? null,
    patternTypeFilter: filter.patternType === 'match' ? 2 : codeOf(KAFKA_PATTERN_TYPES, filter.patternType, ANY),
    principalFilter: filter.principal ?? null,
    hostFilter: filter.host ?? null,
    operation: codeOf(KAFKA_OPERATIONS, filter.operation, ANY),
    permissionType: codeOf(KAFKA_PERMISSIONS, filter.permission, ANY),
  };
}

function bindingOf(codes: { resourceType: number; resourceName: string; patternType: number; principal: string; host: string; operation: number; permissionType: number }): AclBinding {
  const binding = aclBindingOf(codes);
  if (typeof binding === 'string') throw new BrokerError('INVALID_REQUEST', binding);
  return binding;
}

