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
  /** Decides when an append counts as committed. */
  Replicator: Symbol.for('wharf.replication.Replicator'),
  TopicRegistry: Symbol.for('wharf.topics.TopicRegistry'),
  /** Partition assignors, multi-bound: the core binds range, roundrobin and sticky; plugins may add more. */
  Assignor: Symbol.for('wharf.assignment.Assignor'),
  AssignorRegistry: Symbol.for('wharf.assignment.AssignorRegistry'),
  GroupCoordinator: Symbol.for('wharf.groups.GroupCoordinator'),
  OffsetStore: Symbol.for('wharf.groups.OffsetStore'),
  /** Where protocol plugins announce the addresses they listen on. */
  ListenerRegistry: Symbol.for('wharf.net.ListenerRegistry'),
  /** The connections all listeners may hold together (below the open-file limit). */
  ConnectionBudget: Symbol.for('wharf.net.ConnectionBudget'),
} as const;

export type Token = (typeof TOKENS)[keyof typeof TOKENS] | symbol;
