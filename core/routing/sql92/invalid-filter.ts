import { BrokerError } from '../../errors.ts';

/** The error for an expression RocketMQ would refuse; `at` is a 0-based offset, reported 1-based. */
export function invalidFilter(detail: string, at: number): BrokerError {
  return new BrokerError('INVALID_FILTER', `invalid SQL92 filter at position ${at + 1}: ${detail}`);
}
