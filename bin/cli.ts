import fs from 'node:fs';
import { pino } from 'pino';
import {
  BrokerError,
  buildConfigSchema,
  configFileFrom,
  createBroker,
  describeFlags,
  layerFromEnv,
  layerFromFlags,
  type Broker,
  type BrokerPlugin,
  type ConfigLayer,
  type Cluster,
  type ConnectionBudget,
  type ListenerRegistry,
  type StorageEngine,
  TOKENS,
} from '../core/index.ts';
import { defaultPlugins } from './default-broker.ts';
import { runLocalCluster, type LocalClusterOptions } from './local-cluster.ts';
import { runSecurityCommand, SECURITY_USAGE } from './security-cli.ts';

const USAGE = `usage: wharf start [--flag value ...]   start the embedded default broker
       wharf cluster [--nodes 3] [--data-dir ./data-cluster] [--etcd-port 2379] [--kafka-port 19092]
                     [--replication-port 19192] [--http-port 0] [--lease-ttl-ms 2000] [broker flags ...]
                                         a local etcd and N brokers on loopback (needs Debian's etcd-server)
       wharf topics|groups|queues <command> [--server http://127.0.0.1:15672] [--json]
                                         manage a running broker through its admin HTTP API
                                         (wharf topics --help, wharf groups --help, wharf queues --help)
       wharf help                        list every flag
${SECURITY_USAGE}

Configuration: defaults < --config <file> (JSON) < WHARF_* environment < flags.`;

/** `wharf <command> [flags]`; resolves once the broker runs (it stops on SIGINT/SIGTERM). */
export async function runCli(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    printHelp();
    return;
  }
  if (command === 'cluster') return runLocalCluster(localClusterOptions(rest));
  if (command === 'users' || command === 'acls') {
    const output = await runSecurityCommand(command, rest);
    if (output !== '') process.stdout.write(`${output}\n`);
    return;
  }
  if (command !== 'start') throw new BrokerError('CONFIG_INVALID', `unknown command ${command}\n${USAGE}`);
  const { plugins, layers } = composition(rest, process.env);
  const broker = await createBroker({ plugins, config: layers, logDestination: pino.destination({ fd: 2, sync: true }) });
  const keepAlive = setInterval(() => undefined, 1 << 30);
  broker.stopOnSignals((code) => {
    clearInterval(keepAlive);
    process.exit(code);
  });
  broker.reloadOnHangup();
  await broker.start();
  process.stdout.write(`${readinessLine(broker)}\n`);
}

/** `wharf cluster` flags; every other flag goes to each broker. */
function localClusterOptions(argv: readonly string[]): LocalClusterOptions {
  const options: LocalClusterOptions = { nodes: 3, dataDir: './data-cluster', etcdPort: 2379, kafkaPort: 19092, replicationPort: 19192, httpPort: 0, leaseTtlMs: 2000, brokerFlags: [] };
  const numeric = { '--nodes': 'nodes', '--etcd-port': 'etcdPort', '--kafka-port': 'kafkaPort', '--replication-port': 'replicationPort', '--lease-ttl-ms': 'leaseTtlMs', '--http-port': 'httpPort' } as const;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (flag in numeric) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new BrokerError('CONFIG_INVALID', `${flag} needs a positive integer, not ${JSON.stringify(value)}`);
      options[numeric[flag as keyof typeof numeric]] = n;
      i++;
    } else if (flag === '--data-dir') {
      if (value === undefined) throw new BrokerError('CONFIG_INVALID', '--data-dir needs a value');
      options.dataDir = value;
      i++;
    } else options.brokerFlags.push(flag);
  }
  return options;
}

/** Reads the layers, picks the storage plugin the merged `storage` key names, and maps flags and env onto the schema. */
export function composition(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): { plugins: BrokerPlugin<never>[]; layers: ConfigLayer[] } {
  const file = configFileFrom(argv, env);
  const fileLayer: ConfigLayer | undefined = file === undefined ? undefined : { source: file, values: readConfigFile(file) };
  const storage = rawStorage(argv, env, fileLayer);
  const plugins = defaultPlugins(storage, rawClusterEtcd(argv, env, fileLayer) !== '');
  const schema = buildConfigSchema(plugins.flatMap((p) => (p.config ? [p.config] : [])));
  const layers = [...(fileLayer ? [fileLayer] : []), layerFromEnv(env, schema), layerFromFlags(argv, schema)];
  return { plugins, layers };
}

function rawStorage(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, file: ConfigLayer | undefined): 'fs' | 'memory' {
  let value: unknown = file?.values.storage ?? env.WHARF_STORAGE;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--storage') value = argv[i + 1];
    else if (argv[i]!.startsWith('--storage=')) value = argv[i]!.slice('--storage='.length);
  }
  if (value === undefined || value === 'fs' || value === 'memory') return value ?? 'fs';
  throw new BrokerError('CONFIG_INVALID', `storage must be fs or memory, not ${JSON.stringify(value)}`);
}

/** The etcd endpoints the layers name (flags over environment over file), or '' for a single node. */
function rawClusterEtcd(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, file: ConfigLayer | undefined): string {
  const section = file?.values.cluster;
  let value: unknown = (section !== null && typeof section === 'object' ? (section as Record<string, unknown>).etcd : undefined) ?? env.WHARF_CLUSTER_ETCD;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--cluster-etcd') value = argv[i + 1];
    else if (argv[i]!.startsWith('--cluster-etcd=')) value = argv[i]!.slice('--cluster-etcd='.length);
  }
  return typeof value === 'string' ? value : '';
}

function readConfigFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BrokerError('CONFIG_INVALID', `cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BrokerError('CONFIG_INVALID', `${file} must hold a JSON object`);
  return parsed as Record<string, unknown>;
}

export function readinessLine(broker: Broker): string {
  const byProtocol = new Map<string, string[]>();
  const notes = new Map<string, string>();
  for (const { protocol, host, port, tls } of broker.listeners()) {
    byProtocol.set(protocol, [...(byProtocol.get(protocol) ?? []), host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`]);
    if (tls === 'detect') notes.set(protocol, ' (plaintext and TLS)');
    else if (tls === 'tls' && !protocol.endsWith('-tls')) notes.set(protocol, ' (TLS)');
  }
  const registry = broker.get<ListenerRegistry>(TOKENS.ListenerRegistry);
  const listeners = [...byProtocol].map(([protocol, addresses]) => {
    const access = registry.access(protocol);
    return `${protocol} ${addresses.join(' ')}${notes.get(protocol) ?? ''}${access ? ` (${access})` : ''}`;
  });
  const storage = broker.get<StorageEngine>(TOKENS.StorageEngine).description;
  const cluster = broker.get<Cluster>(TOKENS.Cluster);
  const connections = broker.get<ConnectionBudget>(TOKENS.ConnectionBudget).describe();
  return `Wharf ready: ${listeners.length > 0 ? listeners.join(', ') : 'no protocol listeners'} | storage ${storage} | ${connections}${cluster.clustered ? ` | ${cluster.description}` : ''}`;
}

function printHelp(): void {
  const schema = buildConfigSchema(defaultPlugins('fs', true).flatMap((p) => (p.config ? [p.config] : [])));
  const lines = describeFlags(schema).map((f) => `  ${f.flag.padEnd(36)} ${f.description} (default ${JSON.stringify(f.default)})`);
  process.stdout.write(`${USAGE}\n\nflags (env: WHARF_<FLAG_IN_CAPS>):\n  --config <file>                      JSON config file\n${lines.join('\n')}\n`);
}
