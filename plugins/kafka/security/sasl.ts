import { SaslFailure, userPrincipal } from '../../../core/index.ts';
import { ApiKeys, encodeResponse, type RequestHeader, type SaslAuthenticateRequest, type SaslHandshakeRequest } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import { CLOSE_CONNECTION, type KafkaConnection, type Reply } from '../kafka-connection.ts';
import type { KafkaContext } from '../kafka-context.ts';
import { mechanismServer, type SaslMechanismServer } from './sasl-mechanisms.ts';

/** Kafka's sasl.server.max.receive.size: requests before authentication completes are at most this large. */
export const PRE_AUTHENTICATION_MAX_BYTES = 524_288;
/** A session may start re-authenticating at most once a second (KafkaChannel). */
const MIN_REAUTH_INTERVAL_MS = 1000;

/**
 * Whether a request may be handled in the connection's state (SaslServerAuthenticator and SocketServer):
 * during an exchange only SaslAuthenticate; before authentication ApiVersions and SaslHandshake, and
 * anything else only where anonymous access is allowed; an expired session nothing but a new handshake.
 * Returns why not, or undefined.
 */
export function refusal(ctx: KafkaContext, connection: KafkaConnection, apiKey: number): string | undefined {
  const session = connection.session;
  const isAuthenticate = apiKey === ApiKeys.SaslAuthenticate.key;
  if (!session.authenticated) {
    if (session.exchanging) return isAuthenticate ? undefined : `unexpected request of api ${apiKey} during SASL authentication`;
    if (apiKey === ApiKeys.ApiVersions.key || apiKey === ApiKeys.SaslHandshake.key || session.security.anonymousAllowed) return undefined;
    return `unauthenticated request of api ${apiKey}: anonymous access is not allowed`;
  }
  if (apiKey === ApiKeys.SaslHandshake.key || (isAuthenticate && session.exchanging)) return undefined;
  if (session.expired(ctx.clock.now())) return 'the session expired (connections.max.reauth.ms) and was not re-authenticated';
  return undefined;
}

/** SaslHandshake: picks the mechanism; v0 makes the exchange's tokens travel bare, v1 in SaslAuthenticate requests. */
export function handshake(ctx: KafkaContext, connection: KafkaConnection, request: SaslHandshakeRequest, header: RequestHeader): Reply {
  const session = connection.session;
  const { mechanisms, maxReauthMs } = session.settings;
  const respond = (errorCode: number, offered: readonly string[]) => encodeResponse(ApiKeys.SaslHandshake, header.apiVersion, header.correlationId, { errorCode, mechanisms: [...offered] });
  if (mechanisms.length === 0) return respond(KafkaError.ILLEGAL_SASL_STATE, []);
  const now = ctx.clock.now();
  if (session.authenticated) {
    // A re-authentication (KIP-368): only for sessions that expire, at most once a second.
    if (maxReauthMs === 0 || session.exchanging || now - session.lastReauthStart < MIN_REAUTH_INTERVAL_MS) return respond(KafkaError.ILLEGAL_SASL_STATE, []);
    session.lastReauthStart = now;
  }
  if (!mechanisms.includes(request.mechanism)) {
    ctx.logger.debug({ mechanism: request.mechanism }, 'unsupported SASL mechanism requested; closing the connection');
    return { last: respond(KafkaError.UNSUPPORTED_SASL_MECHANISM, mechanisms) };
  }
  session.badMechanism = session.authenticated && request.mechanism !== session.mechanism ? request.mechanism : undefined;
  session.exchange = mechanismServer(session.security, request.mechanism);
  session.raw = header.apiVersion === 0;
  connection.limitRequestBytes(PRE_AUTHENTICATION_MAX_BYTES);
  return respond(KafkaError.NONE, mechanisms);
}

/** SaslAuthenticate (v1 exchanges): a token in, the mechanism's answer and, once complete, the session lifetime out. */
export function authenticate(ctx: KafkaContext, connection: KafkaConnection, request: SaslAuthenticateRequest, header: RequestHeader): Reply | Promise<Reply> {
  const session = connection.session;
  const respond = (errorCode: number, errorMessage: string | null, authBytes: Buffer = EMPTY, sessionLifetimeMs = 0) =>
    encodeResponse(ApiKeys.SaslAuthenticate, header.apiVersion, header.correlationId, { errorCode, errorMessage, authBytes, sessionLifetimeMs });
  const exchange = session.exchange;
  if (!exchange || session.raw) return respond(KafkaError.ILLEGAL_SASL_STATE, 'SaslAuthenticate request received after successful authentication');
  return session.run(
    evaluate(ctx, connection, exchange, request.authBytes).then(
      ({ token, lifetimeMs }) => respond(KafkaError.NONE, null, token, lifetimeMs),
      (failure: SaslFailure) => {
        const message = failure.clientMessage ?? genericFailure(session.authenticated, exchange.mechanism);
        return { last: respond(KafkaError.SASL_AUTHENTICATION_FAILED, message) };
      },
    ),
  );
}

/** A bare token after a v0 handshake (kafka-python 2.0): answered bare; a failure closes the connection unanswered. */
export function rawToken(ctx: KafkaContext, connection: KafkaConnection, token: Buffer): Promise<Reply> {
  const exchange = connection.session.exchange!;
  return connection.session.run(
    evaluate(ctx, connection, exchange, token).then(
      ({ token: answer }) => {
        const size = Buffer.allocUnsafe(4);
        size.writeInt32BE(answer.length);
        return [size, answer];
      },
      () => CLOSE_CONNECTION,
    ),
  );
}

/**
 * Runs one token through the mechanism. On completion the connection takes the proved identity (a
 * re-authentication must prove the same one); on failure the refusal is logged and comes only after
 * the failed-authentication delay.
 */
async function evaluate(ctx: KafkaContext, connection: KafkaConnection, exchange: SaslMechanismServer, token: Buffer): Promise<{ token: Buffer; lifetimeMs: number }> {
  const session = connection.session;
  const reauthenticating = session.authenticated;
  try {
    if (session.badMechanism !== undefined) {
      throw new SaslFailure(`SASL mechanism '${session.badMechanism}' requested by client is not supported for re-authentication of mechanism '${session.mechanism}'`);
    }
    const answer = await exchange.evaluate(token);
    if (!exchange.complete) return { token: answer, lifetimeMs: 0 };
    const principal = userPrincipal(exchange.username!);
    if (reauthenticating && principal !== session.principal) {
      const message = `Cannot change principals during re-authentication from ${session.principal.replace(':', '.')}: ${principal.replace(':', '.')}`;
      throw new SaslFailure(message, message);
    }
    const lifetimeMs = session.settings.maxReauthMs;
    session.authenticatedAs(principal, exchange.mechanism, lifetimeMs, ctx.clock.now());
    connection.limitRequestBytes(ctx.settings.maxRequestBytes);
    ctx.logger.debug({ principal, mechanism: exchange.mechanism, reauthenticated: reauthenticating }, reauthenticating ? 're-authenticated' : 'authenticated');
    return { token: answer, lifetimeMs };
  } catch (err) {
    const failure = err instanceof SaslFailure ? err : new SaslFailure((err as Error).message);
    session.exchange = undefined;
    session.security.authenticationFailed({
      protocol: 'kafka',
      mechanism: exchange.mechanism,
      user: exchange.username,
      remote: connection.socket.remoteAddress,
      reason: failure.message,
    });
    const delay = session.security.failedAuthenticationDelayMs;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    throw failure;
  }
}

function genericFailure(reauthenticating: boolean, mechanism: string): string {
  return `Authentication failed during ${reauthenticating ? 're-authentication' : 'authentication'} due to invalid credentials with SASL mechanism ${mechanism}`;
}

const EMPTY = Buffer.alloc(0);
