/**
 * Every DI token of the core: the glossary of seams. Plugin-private tokens live in the plugin's own tokens.ts.
 * Resolve with the type argument spelled out: `container.get<StorageEngine>(TOKENS.StorageEngine)`.
 */
export const TOKENS = {
  /** The resolved BrokerConfig. */
  Config: Symbol.for('wharf.core.Config'),
  /** The root pino logger. */
  Logger: Symbol.for('wharf.core.Logger'),
  Clock: Symbol.for('wharf.core.Clock'),
  /** The byte seam storage plugins provide. */
  SegmentStore: Symbol.for('wharf.storage.SegmentStore'),
  /** Where partition logs live; SegmentedStorageEngine over the SegmentStore unless a plugin provides one. */
  StorageEngine: Symbol.for('wharf.storage.StorageEngine'),
  /** Free disk space against `diskFreeLimit`: whether the broker is read-only (protocols refuse writes). */
  DiskMonitor: Symbol.for('wharf.storage.DiskMonitor'),
  /** Decides when an append counts as committed. */
  Replicator: Symbol.for('wharf.replication.Replicator'),
  TopicRegistry: Symbol.for('wharf.topics.TopicRegistry'),
  /** Partition assignors, multi-bound: the core binds range, roundrobin and sticky; plugins may add more. */
  Assignor: Symbol.for('wharf.assignment.Assignor'),
  AssignorRegistry: Symbol.for('wharf.assignment.AssignorRegistry'),
  GroupCoordinator: Symbol.for('wharf.groups.GroupCoordinator'),
  OffsetStore: Symbol.for('wharf.groups.OffsetStore'),
  /** The consensus store a cluster coordinates through (etcd); bound only in cluster mode, by a plugin. */
  Coordination: Symbol.for('wharf.cluster.Coordination'),
  /** Who leads what: members, controller, partition states. Single node unless a Coordination backend is bound. */
  Cluster: Symbol.for('wharf.cluster.Cluster'),
  /** Cluster mode: this broker's replicas, fetchers and replication listener. */
  ReplicaManager: Symbol.for('wharf.replication.ReplicaManager'),
  /** Transaction markers written by each partition's leader, here or (cluster mode) on a peer (`TxnMarkerChannel`). */
  TxnMarkers: Symbol.for('wharf.replication.TxnMarkers'),
  /** Where protocol plugins announce the addresses they listen on. */
  ListenerRegistry: Symbol.for('wharf.net.ListenerRegistry'),
  /** Users, ACLs and the authorizer every protocol authenticates and authorizes with. */
  Security: Symbol.for('wharf.security.Security'),
  /** The connections all listeners may hold together (below the open-file limit). */
  ConnectionBudget: Symbol.for('wharf.net.ConnectionBudget'),
  /** The TLS certificate, key and client CAs every TLS listener uses (`TlsCredentials`; `enabled` false without `--tls-cert`). */
  Tls: Symbol.for('wharf.net.Tls'),
  /** Where the broker is in its lifecycle (readiness). */
  BrokerStatus: Symbol.for('wharf.core.BrokerStatus'),
  /** The one prom-client registry: plugins and core services add families and collectors to it. */
  Metrics: Symbol.for('wharf.metrics.Metrics'),
  /** The admin HTTP API's routes, contributed by plugins, and the credential check it uses. */
  AdminEndpoints: Symbol.for('wharf.admin.AdminEndpoints'),
} as const;

export type Token = (typeof TOKENS)[keyof typeof TOKENS] | symbol;
