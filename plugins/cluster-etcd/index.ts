import { ContainerModule } from 'inversify';
import { BrokerError, definePlugin, field, TOKENS, type ConfigField, type CoordinationBackend } from '../../core/index.ts';
import { EtcdCoordination } from './etcd-coordination.ts';

export { EtcdCoordination, type EtcdCoordinationOptions } from './etcd-coordination.ts';

/** `http://host:port[,http://host:port...]`: etcd's client URLs. */
const endpointsField: ConfigField<string> = {
  default: '',
  description: 'etcd client URLs, comma-separated (e.g. http://127.0.0.1:2379): the cluster coordinates through this etcd 3.4+',
  coerce(value) {
    if (typeof value !== 'string') throw new Error('expected comma-separated URLs');
    parseEndpoints(value);
    return value;
  },
};

const nameField: ConfigField<string> = {
  default: 'wharf',
  description: 'the cluster name: every key the cluster keeps in etcd lives under /<name>/',
  coerce(value) {
    if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value)) throw new Error('expected letters, digits, ".", "_" or "-"');
    return value;
  },
};

export const clusterEtcdFields = {
  etcd: endpointsField,
  name: nameField,
  leaseTtlMs: field.integer(5000, "a broker's lease in etcd: how long after its last keepalive etcd drops the broker (rounded up to whole seconds; etcd's minimum is 2 s at its default raft timings)", { min: 1000 }),
  requestTimeoutMs: field.integer(2000, 'how long one etcd call may take before it fails', { min: 100 }),
} as const;

/**
 * Cluster coordination through etcd: provides the Coordination role (`cluster.etcd` must name etcd).
 * Connects at start, failing the start when etcd does not answer; closes at stop.
 */
export function clusterEtcd() {
  let coordination: EtcdCoordination | undefined;
  return definePlugin({
    name: 'cluster-etcd',
    provides: [TOKENS.Coordination],
    config: { name: 'cluster', fields: clusterEtcdFields },
    module: ({ section, logger }) => {
      if (section.etcd === '') throw new BrokerError('CONFIG_INVALID', 'cluster.etcd is not set: name etcd with --cluster-etcd http://host:2379');
      const backend = new EtcdCoordination({
        endpoints: parseEndpoints(section.etcd),
        name: section.name,
        leaseTtlMs: section.leaseTtlMs,
        requestTimeoutMs: section.requestTimeoutMs,
        logger,
      });
      coordination = backend;
      return new ContainerModule(({ bind }) => {
        bind<CoordinationBackend>(TOKENS.Coordination).toConstantValue(backend);
      });
    },
    start: () => coordination?.connect(),
    stop: () => coordination?.close(),
  });
}

function parseEndpoints(value: string): string[] {
  const endpoints = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const endpoint of endpoints) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new Error(`${JSON.stringify(endpoint)} is not a URL like http://host:2379`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.port === '' || (url.pathname !== '/' && url.pathname !== '')) {
      throw new Error(`${JSON.stringify(endpoint)} is not a URL like http://host:2379`);
    }
  }
  return endpoints;
}
