import { BrokerError } from '../../core/index.ts';

/** The apache.rocketmq.v2.Code names this broker answers with. */
export type Code =
  | 'OK'
  | 'BAD_REQUEST'
  | 'ILLEGAL_TOPIC'
  | 'ILLEGAL_CONSUMER_GROUP'
  | 'ILLEGAL_MESSAGE_TAG'
  | 'ILLEGAL_MESSAGE_KEY'
  | 'ILLEGAL_MESSAGE_GROUP'
  | 'ILLEGAL_MESSAGE_PROPERTY_KEY'
  | 'INVALID_TRANSACTION_ID'
  | 'ILLEGAL_MESSAGE_ID'
  | 'ILLEGAL_FILTER_EXPRESSION'
  | 'ILLEGAL_INVISIBLE_TIME'
  | 'ILLEGAL_DELIVERY_TIME'
  | 'INVALID_RECEIPT_HANDLE'
  | 'MESSAGE_PROPERTY_CONFLICT_WITH_TYPE'
  | 'UNRECOGNIZED_CLIENT_TYPE'
  | 'CLIENT_ID_REQUIRED'
  | 'ILLEGAL_POLLING_TIME'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'MESSAGE_NOT_FOUND'
  | 'TOPIC_NOT_FOUND'
  | 'CONSUMER_GROUP_NOT_FOUND'
  | 'MESSAGE_BODY_TOO_LARGE'
  | 'MESSAGE_BODY_EMPTY'
  | 'MESSAGE_PROPERTIES_TOO_LARGE'
  | 'INTERNAL_ERROR'
  | 'INTERNAL_SERVER_ERROR'
  | 'NOT_IMPLEMENTED'
  | 'UNSUPPORTED';

export interface Status {
  code: Code;
  message: string;
}

export const OK: Status = { code: 'OK', message: 'OK' };

/** A request refused with a RocketMQ status code. */
export class RocketError extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
  }

  get status(): Status {
    return { code: this.code, message: this.message };
  }
}

/** What RocketMQ's proxy answers when its store is not writable (the broker's SERVICE_NOT_AVAILABLE, disk full). */
export function diskFull(freeBytes: number | undefined): RocketError {
  return new RocketError(
    'INTERNAL_SERVER_ERROR',
    `service not available now. It may be caused by one of the following reasons: the broker's disk is full [${freeBytes ?? 0} bytes free], messages are put to the slave, message store has been shut down, etc.`,
  );
}

const fromBroker: Partial<Record<string, Code>> = {
  TOPIC_NOT_FOUND: 'TOPIC_NOT_FOUND',
  INVALID_TOPIC: 'ILLEGAL_TOPIC',
  INVALID_FILTER: 'ILLEGAL_FILTER_EXPRESSION',
  INVALID_DELAY: 'ILLEGAL_DELIVERY_TIME',
  MALFORMED_INPUT: 'BAD_REQUEST',
  NOT_SUPPORTED: 'NOT_IMPLEMENTED',
};

/** The status any thrown error answers with; unexpected ones are INTERNAL_ERROR. */
export function statusOf(err: unknown): Status {
  if (err instanceof RocketError) return err.status;
  if (err instanceof BrokerError && err.code === 'STORAGE_FULL') return diskFull(undefined).status;
  if (err instanceof BrokerError) return { code: fromBroker[err.code] ?? 'INTERNAL_ERROR', message: err.message };
  return { code: 'INTERNAL_ERROR', message: 'internal error' };
}
