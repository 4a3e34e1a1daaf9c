import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { BrokerError } from '../errors.ts';

export const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

const DIGEST: Record<ScramMechanism, { hash: 'sha256' | 'sha512'; length: number }> = {
  'SCRAM-SHA-256': { hash: 'sha256', length: 32 },
  'SCRAM-SHA-512': { hash: 'sha512', length: 64 },
};

/** Kafka's bounds for both mechanisms (RFC 7677 says at least 4096). */
export const MIN_SCRAM_ITERATIONS = 4096;
export const MAX_SCRAM_ITERATIONS = 16384;

/** What the server keeps of a SCRAM password (RFC 5802): enough to verify a proof, never the password. */
export interface ScramCredential {
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}

/**
 * A user and the verifiers of its secret, one per mechanism family that needs its own form. No
 * plaintext password is ever stored, with one exception: RocketMQ's ACL 2.0 signs requests with
 * HMAC-SHA1 keyed by the secret itself, so `secretKey` must be kept in the clear.
 */
export interface User {
  readonly name: string;
  readonly scram?: Readonly<Partial<Record<ScramMechanism, ScramCredential>>>;
  /** RabbitMQ's `rabbit_password_hashing_sha256`: base64(4-byte salt ‖ SHA-256(salt ‖ password)). */
  readonly passwordHash?: string;
  /** RocketMQ ACL 2.0 secret key (clear text, see above). */
  readonly secretKey?: string;
  /** Allowed everything, whatever the ACLs say (Kafka's super.users, RocketMQ's Super user type). */
  readonly superUser?: boolean;
  /** RabbitMQ user tags (administrator, management, ...). */
  readonly tags?: readonly string[];
}

export function digestOf(mechanism: ScramMechanism): { hash: 'sha256' | 'sha512'; length: number } {
  return DIGEST[mechanism];
}

export const hmac = (hash: string, key: Buffer, text: string | Buffer): Buffer => createHmac(hash, key).update(text).digest();
export const digest = (hash: string, data: Buffer): Buffer => createHash(hash).update(data).digest();

/** SaltedPassword = Hi(password, salt, i): PBKDF2 in the libuv pool, off the event loop. */
export function saltPassword(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  const { hash, length } = DIGEST[mechanism];
  return new Promise((resolve, reject) => pbkdf2(Buffer.from(password, 'utf8'), salt, iterations, length, hash, (err, key) => (err ? reject(err) : resolve(key))));
}

/** StoredKey and ServerKey from a salted password, as Kafka's AlterUserScramCredentials derives them. */
export function scramCredential(mechanism: ScramMechanism, saltedPassword: Buffer, salt: Buffer, iterations: number): ScramCredential {
  checkIterations(iterations);
  const { hash } = DIGEST[mechanism];
  return {
    salt: Buffer.from(salt),
    storedKey: digest(hash, hmac(hash, saltedPassword, 'Client Key')),
    serverKey: hmac(hash, saltedPassword, 'Server Key'),
    iterations,
  };
}

export async function newScramCredential(mechanism: ScramMechanism, password: string, iterations: number): Promise<ScramCredential> {
  checkIterations(iterations);
  const salt = randomBytes(24);
  return scramCredential(mechanism, await saltPassword(mechanism, password, salt, iterations), salt, iterations);
}

export function checkIterations(iterations: number): void {
  if (!Number.isInteger(iterations) || iterations < MIN_SCRAM_ITERATIONS) throw new BrokerError('INVALID_CREDENTIAL', 'Too few iterations');
  if (iterations > MAX_SCRAM_ITERATIONS) throw new BrokerError('INVALID_CREDENTIAL', 'Too many iterations');
}

/** Whether a password matches a SCRAM credential: the client's half of SCRAM, run by the server for PLAIN. */
export async function scramPasswordMatches(mechanism: ScramMechanism, credential: ScramCredential, password: string): Promise<boolean> {
  const { hash } = DIGEST[mechanism];
  const salted = await saltPassword(mechanism, password, credential.salt, credential.iterations);
  return safeEqual(digest(hash, hmac(hash, salted, 'Client Key')), credential.storedKey);
}

/** RabbitMQ's default password hash (`rabbit_password_hashing_sha256`), base64. */
export function rabbitPasswordHash(password: string, salt: Buffer = randomBytes(4)): string {
  return Buffer.concat([salt, digest('sha256', Buffer.concat([salt, Buffer.from(password, 'utf8')]))]).toString('base64');
}

export function rabbitPasswordMatches(hash: string, password: string): boolean {
  const bytes = Buffer.from(hash, 'base64');
  if (bytes.length !== 36) return false;
  return safeEqual(Buffer.from(rabbitPasswordHash(password, bytes.subarray(0, 4)), 'base64'), bytes);
}

/** Constant-time equality that does not throw on different lengths. */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
