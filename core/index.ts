import 'reflect-metadata';

export { BrokerError, ErrorCatalogue, malformed, type ErrorCode } from './errors.ts';
export { firstEventOrTimeout, systemClock, type Clock, type Timer } from './clock.ts';
export { createRootLogger, LOG_LEVELS, type Logger, type LogLevel } from './logging.ts';
export { TOKENS, type Token } from './tokens.ts';
export {
  buildConfigSchema,
  configFileFrom,
  coreConfigFields,
  describeFlags,
  field,
  layerFromEnv,
  layerFromFlags,
  resolveConfig,
  type BrokerConfig,
  type ConfigField,
  type ConfigLayer,
  type ConfigSchema,
  type ConfigSection,
  type CoreConfig,
  type SectionFields,
  type TlsClientAuth,
  type TlsSettings,
  type TopicDefaults,
  type ValuesOf,
} from './config.ts';
export { definePlugin, type BrokerPlugin, type PluginContext } from './plugin.ts';
export { Broker, createBroker, type CreateBrokerOptions } from './broker.ts';
export { BrokerStatus, type BrokerState } from './broker-status.ts';
export * from './metrics/index.ts';
export * from './admin/index.ts';
export { ListenerRegistry, type ConnectionSource, type ListenerAddress } from './net/listener-registry.ts';
export * from './record/index.ts';
export * from './storage/index.ts';
export * from './topics/index.ts';
export type { ReplicaLog, Replicator } from './replication/replicator.ts';
export { LeaderEpochCache, type EpochEndOffset, type EpochEntry } from './storage/leader-epoch-cache.ts';
export { SingleNodeReplicator } from './replication/single-node-replicator.ts';
export type { TxnMarkerChannel, TxnVerifier } from './replication/txn-marker-channel.ts';
export type { MarkersRequest, MarkersResponse, VerifyRequest, VerifyResponse } from './replication/replication-protocol.ts';
export * from './cluster/index.ts';
export { LengthPrefixedFrames } from './net/length-prefixed-frames.ts';
export { RequestMemory } from './net/request-memory.ts';
export { hostAddresses, TcpListener, type Accept, type ClientConnection, type ClientDescription, type Connection, type TcpListenerOptions } from './net/tcp-listener.ts';
export { ConnectionBudget, connectionsWithin } from './net/connection-budget.ts';
export { TlsCredentials, type TlsMaterial } from './net/tls-credentials.ts';
export { isTls, verifiedClientCertificate, type ListenerTls } from './net/tls-terminator.ts';
export { certificateSubject, NAME_OIDS, type NameAttribute } from './net/certificate-subject.ts';
export { openFileLimit, type OpenFileLimit } from './net/open-file-limit.ts';
export { RecurringWarning } from './net/recurring-warning.ts';
export * from './assignment/index.ts';
export * from './groups/index.ts';
export * from './routing/index.ts';
export * from './delivery/index.ts';
export * from './security/index.ts';
export * from './streams/index.ts';
