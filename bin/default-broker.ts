import type { BrokerPlugin } from '../core/index.ts';
import { adminConsole } from '../plugins/admin-console/index.ts';
import { adminHttp } from '../plugins/admin-http/index.ts';
import { clusterEtcd } from '../plugins/cluster-etcd/index.ts';
import { kafka } from '../plugins/kafka/index.ts';
import { rabbit } from '../plugins/rabbit/index.ts';
import { rabbitStream } from '../plugins/rabbit-stream/index.ts';
import { rocket } from '../plugins/rocket/index.ts';
import { fsStorage } from '../plugins/storage-fs/index.ts';
import { memoryStorage } from '../plugins/storage-memory/index.ts';

/**
 * The embedded default composition: the chosen storage plugin, every protocol plugin Wharf ships and the
 * admin HTTP server with its web console; with `clustered` (etcd named by --cluster-etcd), cluster coordination through etcd.
 */
export function defaultPlugins(storage: 'fs' | 'memory', clustered = false): BrokerPlugin<never>[] {
  return [storage === 'memory' ? memoryStorage() : fsStorage(), ...(clustered ? [clusterEtcd()] : []), kafka(), rabbit(), rabbitStream(), rocket(), adminHttp(), adminConsole()];
}
