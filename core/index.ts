export { BrokerError, ErrorCatalogue, malformed, type ErrorCode } from './errors.ts';
export { systemClock, type Clock, type Timer } from './clock.ts';
export { createRootLogger, LOG_LEVELS, type Logger, type LogLevel } from './logging.ts';
export { TOKENS, type Token } from './tokens.ts';
export * from './record/index.ts';
export * from './storage/index.ts';
export type { ReplicaLog, Replicator } from './replication/replicator.ts';
export { SingleNodeReplicator } from './replication/single-node-replicator.ts';
