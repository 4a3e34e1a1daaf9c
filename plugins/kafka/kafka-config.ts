import { field } from '../../core/index.ts';

export const kafkaConfigFields = {
  port: field.port(9092, 'Kafka listener port; 0 disables it'),
  tlsPort: field.port(9093, 'Kafka TLS (SSL) listener port, served when --tls-cert and --tls-key are given; 0 disables it'),
  advertisedHost: field.string('', 'host clients are told to connect to (default: 127.0.0.1 when bound to localhost)'),
  maxRequestBytes: field.integer(100 * 1024 * 1024, 'largest request accepted (socket.request.max.bytes)', { min: 1024 }),
  maxConnections: field.integer(0, 'Kafka connections accepted at once (max.connections); 0: as many as the shared --max-connections allows', { min: 0 }),
  idleTimeoutMs: field.integer(600_000, 'close connections idle this long (connections.max.idle.ms); 0 never', { min: 0 }),
  queuedMaxRequestBytes: field.integer(256 * 1024 * 1024, 'bytes of requests in flight across all connections before reading pauses (queued.max.request.bytes)', { min: 1024 }),
  stalledRequestTimeoutMs: field.integer(30_000, 'close a connection whose incomplete request receives nothing for this long', { min: 100 }),
  maxInFlightRequests: field.integer(64, 'requests of one connection in flight before reading pauses', { min: 1 }),
  autoCreateTopics: field.boolean(true, 'create a topic when Metadata asks for an unknown one (auto.create.topics.enable)'),
  groupAssignment: field.oneOf(['client', 'server'], 'client', 'client: the group leader assigns (classic); server: the broker assigns with groups.assignor'),
  maxMessageBytes: field.integer(1_048_588, 'largest record batch a producer may send, unless the topic overrides it', { min: 1024 }),
  fetchSessionCacheSlots: field.integer(1000, 'incremental fetch sessions the broker keeps (max.incremental.fetch.session.cache.slots); 0 serves every fetch sessionless', { min: 0 }),
  fetchSessionEvictionMs: field.integer(120_000, 'a fetch session unused this long may be evicted for a new one (min.incremental.fetch.session.eviction.ms)', { min: 0 }),
  saslMechanisms: field.string('PLAIN,SCRAM-SHA-256,SCRAM-SHA-512', "SASL mechanisms the Kafka listener offers (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), comma-separated; '' turns SASL off"),
  connectionsMaxReauthMs: field.integer(0, 'an authenticated session lasts this long unless the client re-authenticates (connections.max.reauth.ms, KIP-368); 0 forever', { min: 0 }),
  transactionMaxTimeoutMs: field.integer(900_000, 'the longest transaction timeout a producer may ask for (transaction.max.timeout.ms)', { min: 1 }),
  transactionAbortCheckMs: field.integer(10_000, 'how often transactions past their timeout are looked for and aborted (transaction.abort.timed.out.transaction.cleanup.interval.ms)', { min: 1 }),
  drainTimeoutMs: field.integer(5000, 'how long a stopping broker waits for in-flight requests', { min: 0 }),
} as const;
