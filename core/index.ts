export { BrokerError, ErrorCatalogue, malformed, type ErrorCode } from './errors.ts';
