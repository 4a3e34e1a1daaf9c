import { randomBytes } from 'node:crypto';
import { digest, digestOf, hmac, safeEqual, saltPassword, MIN_SCRAM_ITERATIONS, type ScramCredential, type ScramMechanism } from './credentials.ts';

/**
 * Why a SASL exchange failed. `clientMessage` is what the client may be told; without one the protocol
 * answers its generic text, so that nothing (such as whether the user exists) leaks.
 */
export class SaslFailure extends Error {
  override readonly name = 'SaslFailure';

  constructor(
    message: string,
    readonly clientMessage?: string,
  ) {
    super(message);
  }
}

// RFC 5802's grammar as Kafka's ScramMessages reads it: ASCII only.
const SASLNAME = String.raw`(?:[\x01-\x2b\x2d-\x3c\x3e-\x7f]|=2C|=3D)+`;
const PRINTABLE = String.raw`[\x21-\x2b\x2d-\x7e]+`;
const VALUE = String.raw`[\x01-\x2b\x2d-\x7f]+`;
const BASE64_CHAR = '[a-zA-Z0-9/+]';
const BASE64 = `(?:${BASE64_CHAR}{4})*(?:${BASE64_CHAR}{3}=|${BASE64_CHAR}{2}==)?`;
const EXTENSIONS = `(?:,[A-Za-z]+=${VALUE})*`;
const CLIENT_FIRST = new RegExp(`^n,(?:a=(${SASLNAME}))?,(?:m=${VALUE},)?n=(${SASLNAME}),r=(${PRINTABLE})(${EXTENSIONS})$`);
const CLIENT_FINAL = new RegExp(`^c=(${BASE64}),r=(${PRINTABLE})${EXTENSIONS},p=(${BASE64})$`);
const SERVER_FIRST = new RegExp(`^(?:m=${VALUE},)?r=(${PRINTABLE}),s=(${BASE64}),i=([0-9]+)${EXTENSIONS}$`);
const SERVER_FINAL = new RegExp(`^(?:e=([\\x01-\\x2b\\x2d-\\x3c\\x3e-\\x7f]+)|v=(${BASE64}))${EXTENSIONS}$`);

/** `=2C` and `=3D` in a SCRAM name stand for `,` and `=`. */
export const unescapeSaslName = (name: string): string => name.replaceAll('=2C', ',').replaceAll('=3D', '=');
export const escapeSaslName = (name: string): string => name.replaceAll('=', '=3D').replaceAll(',', '=2C');

/**
 * The server side of one SCRAM-SHA-256/512 exchange (RFC 5802, no channel binding), as Kafka's
 * ScramSaslServer runs it. It needs only the stored keys: verifying a proof is two HMACs and a hash,
 * no PBKDF2, so it runs on the event loop without blocking anyone.
 */
export class ScramServer {
  private state: 'first' | 'final' | 'complete' | 'failed' = 'first';
  private credential: ScramCredential | undefined;
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  /** The user name the client gave (authenticated once complete). */
  username: string | undefined;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: (username: string) => ScramCredential | undefined,
    private readonly serverNonce: () => string = () => randomBytes(18).toString('base64url'),
  ) {}

  get complete(): boolean {
    return this.state === 'complete';
  }

  /** One client message in, the server's answer out; throws SaslFailure. */
  evaluate(message: Buffer): Buffer {
    try {
      if (this.state === 'first') return this.first(message.toString('utf8'));
      if (this.state === 'final') return this.final(message.toString('utf8'));
      throw new SaslFailure(`unexpected SCRAM message in state ${this.state}`);
    } catch (err) {
      this.state = 'failed';
      this.credential = undefined;
      throw err instanceof SaslFailure ? err : new SaslFailure((err as Error).message);
    }
  }

  private first(text: string): Buffer {
    const m = CLIENT_FIRST.exec(text);
    if (!m) throw new SaslFailure('Invalid SCRAM client first message format');
    const [, authzid = '', saslName, clientNonce, extensions] = m as unknown as [string, string | undefined, string, string, string];
    const username = unescapeSaslName(saslName);
    this.username = username;
    const credential = this.lookup(username);
    if (!credential) throw new SaslFailure('Authentication failed: Invalid user credentials');
    if (authzid !== '' && unescapeSaslName(authzid) !== username) {
      throw new SaslFailure('authorization id differs from the user name', 'Authentication failed: Client requested an authorization id that is different from username');
    }
    if (credential.iterations < MIN_SCRAM_ITERATIONS) throw new SaslFailure(`Iterations ${credential.iterations} is less than the minimum ${MIN_SCRAM_ITERATIONS} for ${this.mechanism}`);
    this.credential = credential;
    this.nonce = clientNonce + this.serverNonce();
    this.clientFirstBare = `n=${saslName},r=${clientNonce}${extensions}`;
    this.serverFirst = `r=${this.nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
    this.state = 'final';
    return Buffer.from(this.serverFirst, 'utf8');
  }

  private final(text: string): Buffer {
    const m = CLIENT_FINAL.exec(text);
    if (!m) throw new SaslFailure('Invalid SCRAM client final message format');
    const [, channel, nonce, proofText] = m as unknown as [string, string, string, string];
    if (!nonce.endsWith(this.nonce)) throw new SaslFailure('Invalid client nonce in the final client message.');
    const { hash } = digestOf(this.mechanism);
    const credential = this.credential!;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},c=${channel},r=${nonce}`;
    const clientSignature = hmac(hash, credential.storedKey, authMessage);
    const proof = Buffer.from(proofText, 'base64');
    if (proof.length !== clientSignature.length) throw new SaslFailure('Invalid client credentials');
    for (let i = 0; i < proof.length; i++) proof[i]! ^= clientSignature[i]!;
    if (!safeEqual(digest(hash, proof), credential.storedKey)) throw new SaslFailure('Invalid client credentials');
    const serverSignature = hmac(hash, credential.serverKey, authMessage);
    this.credential = undefined;
    this.state = 'complete';
    return Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8');
  }
}

/**
 * The client side, for Wharf's own tools (the CLI, tests, benchmarks). `saltedPasswords` may memoize
 * Hi() across exchanges of one user: the result depends only on password, salt and iterations.
 */
export class ScramClient {
  private readonly clientNonce = randomBytes(18).toString('base64url');
  private clientFirstBare = '';
  private authMessage = '';
  private serverKey: Buffer | undefined;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly username: string,
    private readonly password: string,
    private readonly saltedPasswords?: Map<string, Buffer>,
  ) {}

  first(): Buffer {
    this.clientFirstBare = `n=${escapeSaslName(this.username)},r=${this.clientNonce}`;
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  async final(serverFirstBytes: Buffer): Promise<Buffer> {
    const serverFirst = serverFirstBytes.toString('utf8');
    const m = SERVER_FIRST.exec(serverFirst);
    if (!m) throw new SaslFailure(`Invalid SCRAM server first message: ${serverFirst}`);
    const [, nonce, saltText, iterationsText] = m as unknown as [string, string, string, string];
    if (!nonce.startsWith(this.clientNonce)) throw new SaslFailure('the server nonce does not extend the client nonce');
    const iterations = Number(iterationsText);
    if (iterations < MIN_SCRAM_ITERATIONS) throw new SaslFailure(`the server asks for ${iterations} iterations, below ${MIN_SCRAM_ITERATIONS}`);
    const salt = Buffer.from(saltText, 'base64');
    const key = `${saltText}:${iterations}`;
    let salted = this.saltedPasswords?.get(key);
    if (!salted) {
      salted = await saltPassword(this.mechanism, this.password, salt, iterations);
      this.saltedPasswords?.set(key, salted);
    }
    const { hash } = digestOf(this.mechanism);
    const clientKey = hmac(hash, salted, 'Client Key');
    this.serverKey = hmac(hash, salted, 'Server Key');
    const withoutProof = `c=biws,r=${nonce}`;
    this.authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(hash, digest(hash, clientKey), this.authMessage);
    for (let i = 0; i < signature.length; i++) signature[i]! ^= clientKey[i]!;
    return Buffer.from(`${withoutProof},p=${signature.toString('base64')}`, 'utf8');
  }

  /** Checks the server's signature: a server that does not hold the user's keys cannot produce it. */
  verify(serverFinalBytes: Buffer): void {
    const text = serverFinalBytes.toString('utf8');
    const m = SERVER_FINAL.exec(text);
    if (!m) throw new SaslFailure(`Invalid SCRAM server final message: ${text}`);
    if (m[1] !== undefined) throw new SaslFailure(`the server refused: ${m[1]}`);
    const expected = hmac(digestOf(this.mechanism).hash, this.serverKey!, this.authMessage);
    if (!safeEqual(Buffer.from(m[2]!, 'base64'), expected)) throw new SaslFailure('the server signature does not match');
  }
}
