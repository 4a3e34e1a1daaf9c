/**
 * The one catalogue of broker error codes. Each protocol plugin maps these codes to its wire
 * error codes in a single table; nothing else invents error identities.
 */
export const ErrorCatalogue = {
  // configuration and composition
  CONFIG_INVALID: 'the configuration is invalid',
  CONFIG_UNKNOWN_KEY: 'the configuration names a key nobody declared',
  PLUGIN_INVALID: 'a plugin definition is malformed',
  PLUGIN_DUPLICATE: 'two plugins share one name',
  PLUGIN_MISSING_REQUIREMENT: 'a plugin requires a role no plugin provides',
  PLUGIN_DUPLICATE_PROVIDER: 'two plugins provide one singleton role',
  BROKER_STATE: 'the broker is not in a state that allows this operation',

  // bytes on the wire and on disk
  MALFORMED_INPUT: 'bytes could not be decoded',
  FRAME_TOO_LARGE: 'a frame or request exceeds its size limit',
  CORRUPT_RECORD: 'a record batch failed validation (size, count or CRC)',
  INVALID_RECORD: 'a record batch is well formed but not acceptable here',
  RECORD_TOO_LARGE: 'a record batch exceeds the maximum size',
  UNSUPPORTED_VERSION: 'the version is not supported',
  UNSUPPORTED_COMPRESSION: 'the compression codec is not supported',

  // storage
  STORAGE_IO: 'the storage layer failed an I/O operation',
  STORAGE_FULL: 'the disk is full or below its free-space limit: the broker is read-only until space returns',
  LOG_CLOSED: 'the log is closed',
  OFFSET_OUT_OF_RANGE: 'the offset is outside the log',
  NOT_FOUND: 'the named file or log does not exist',
  INVALID_PRODUCER_EPOCH: 'the producer epoch is older than the newest epoch the log has seen',
  OUT_OF_ORDER_SEQUENCE: "the batch's sequence number does not follow the producer's last one",
  INVALID_TXN_STATE: 'the producer wrote outside of the transaction it has open, or into one it has not opened',
  TRANSACTION_COORDINATOR_FENCED: "the transaction marker carries an older coordinator epoch than the producer's last marker here",

  // topics
  TOPIC_NOT_FOUND: 'the topic does not exist',
  TOPIC_EXISTS: 'the topic already exists',
  INVALID_TOPIC: 'the topic name is not valid',
  INVALID_PARTITIONS: 'the partition count is not valid',
  INVALID_TOPIC_CONFIG: 'a topic configuration value is not valid',

  // replication and the cluster
  NOT_LEADER: 'this broker does not lead the partition (or is fenced)',
  LEADER_NOT_AVAILABLE: 'the partition has no leader right now',
  NOT_ENOUGH_REPLICAS: 'fewer replicas are in sync than min.insync.replicas',
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 'stored, but the in-sync replicas fell below min.insync.replicas before it was committed',
  FENCED_LEADER_EPOCH: 'the request names an older leader epoch than the partition\'s',
  UNKNOWN_LEADER_EPOCH: 'the request names a newer leader epoch than this broker knows',
  INVALID_REPLICATION_FACTOR: 'the replication factor is not possible with the live brokers',
  NOT_COORDINATOR: 'this broker does not coordinate the group',
  COORDINATOR_LOADING: 'the group coordinator is still loading its state',

  // groups and assignment
  UNKNOWN_ASSIGNOR: 'no assignor is registered under this name',
  GROUP_NOT_FOUND: 'the group does not exist',
  UNKNOWN_MEMBER: 'the member is not known to the group',
  ILLEGAL_GENERATION: 'the generation is not the current one',
  REBALANCE_IN_PROGRESS: 'the group is rebalancing',
  INCONSISTENT_PROTOCOL: 'the member offers no protocol the group shares',
  INVALID_SESSION_TIMEOUT: 'the session timeout is outside the allowed range',
  MEMBER_ID_REQUIRED: 'the member must rejoin with the id it was given',
  GROUP_NOT_EMPTY: 'the group still has members',
  FENCED_INSTANCE: 'a newer member took over this static instance id',

  // security
  AUTHENTICATION_FAILED: 'the credentials were not accepted',
  INVALID_CREDENTIAL: 'the credential is not acceptable (too few or too many iterations, no user name)',
  INVALID_REQUEST: 'the request is not valid',

  // general
  NOT_SUPPORTED: 'the feature is deliberately unsupported',
  INVALID_DELAY: 'the delivery time is beyond the longest delay allowed',
  INVALID_FILTER: 'the filter expression is not valid',
  TIMEOUT: 'the operation timed out',
  INTERNAL: 'an internal invariant was broken',
} as const;

export type ErrorCode = keyof typeof ErrorCatalogue;

export class BrokerError extends Error {
  override readonly name = 'BrokerError';

  constructor(
    readonly code: ErrorCode,
    message: string = ErrorCatalogue[code],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static is(err: unknown, code?: ErrorCode): err is BrokerError {
    return err instanceof BrokerError && (code === undefined || err.code === code);
  }
}

/** The error every decoder throws for bytes it cannot decode. */
export function malformed(what: string, cause?: unknown): BrokerError {
  return new BrokerError('MALFORMED_INPUT', what, cause === undefined ? undefined : { cause });
}
