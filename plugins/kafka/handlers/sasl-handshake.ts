import type { SaslHandshakeRequest, SaslHandshakeResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';

/** SASL is not offered yet: a client configured for it gets a clear UNSUPPORTED_SASL_MECHANISM. */
export const handleSaslHandshake: Handler<SaslHandshakeRequest, SaslHandshakeResponse> = () => ({
  errorCode: KafkaError.UNSUPPORTED_SASL_MECHANISM,
  mechanisms: [],
});
