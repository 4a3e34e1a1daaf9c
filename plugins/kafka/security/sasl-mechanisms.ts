import { SaslFailure, type ScramMechanism, type Security } from '../../../core/index.ts';

/** The server side of one SASL mechanism's exchange (Java's SaslServer). */
export interface SaslMechanismServer {
  readonly mechanism: string;
  /** One client token in, the server's token out; throws SaslFailure. */
  evaluate(token: Buffer): Buffer | Promise<Buffer>;
  readonly complete: boolean;
  /** The user the client claims to be (authenticated once complete). */
  readonly username: string | undefined;
}

export const SUPPORTED_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

export function mechanismServer(security: Security, mechanism: string): SaslMechanismServer {
  if (mechanism === 'PLAIN') return new PlainServer(security);
  return security.scramServer(mechanism as ScramMechanism);
}

/** RFC 4616 as Kafka's PlainSaslServer reads it: `[authzid] NUL authcid NUL passwd`, checked against the user store. */
class PlainServer implements SaslMechanismServer {
  readonly mechanism = 'PLAIN';
  complete = false;
  username: string | undefined;

  constructor(private readonly security: Security) {}

  async evaluate(token: Buffer): Promise<Buffer> {
    if (this.complete) throw new SaslFailure('unexpected PLAIN token after completion');
    const tokens = token.toString('utf8').split('\u0000', 4);
    if (tokens.length !== 3) {
      const message = `Invalid SASL/PLAIN response: expected 3 tokens, got ${Math.min(tokens.length, 4)}`;
      throw new SaslFailure(message, message);
    }
    const [authzid, username, password] = tokens as [string, string, string];
    if (username === '') throw new SaslFailure('no user name', 'Authentication failed: username not specified');
    if (password === '') throw new SaslFailure('no password', 'Authentication failed: password not specified');
    this.username = username;
    const user = await this.security.verifyPassword(username, password);
    if (!user) throw new SaslFailure(`invalid password for ${username}`, 'Authentication failed: Invalid username or password');
    if (authzid !== '' && authzid !== username) {
      throw new SaslFailure('authorization id differs from the user name', 'Authentication failed: Client requested an authorization id that is different from username');
    }
    this.complete = true;
    return Buffer.alloc(0);
  }
}
