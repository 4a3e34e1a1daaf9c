import { createHmac, timingSafeEqual } from 'node:crypto';
import { RocketError } from '../status.ts';

/**
 * RocketMQ 5's gRPC request signature (ACL 2.0): clients with session credentials send
 * `authorization: MQv2-HMAC-SHA1 Credential=<accessKey>, SignedHeaders=x-mq-date-time, Signature=<hex>`
 * where the signature is HMAC-SHA1 keyed by the secret key over the `x-mq-date-time` header's value.
 */
export interface SignedRequest {
  /** The access key (user name); empty when the header names none. */
  readonly accessKey: string;
  /** The decoded signature; undefined when the header carries none. */
  readonly signature: Buffer | undefined;
  /** What was signed: the `x-mq-date-time` value. */
  readonly content: string;
}

/**
 * Reads the header as the proxy's DefaultAuthenticationContextBuilder does, with Java's `split`
 * semantics: the scheme word is ignored, `key=value` pairs are comma-separated (trailing empty pairs
 * dropped), the access key is the credential up to the first `/`, the signature is hex in either case,
 * SignedHeaders is not looked at. A malformed header is UNAUTHORIZED with the proxy's message.
 */
export function parseAuthorization(authorization: string, dateTime: string | undefined): SignedRequest {
  if (!dateTime) throw unauthorized('datetime is null.');
  const space = authorization.indexOf(' ');
  if (space < 0) throw unauthorized('authentication header is incorrect.');
  let accessKey = '';
  let signature: Buffer | undefined;
  for (const pair of javaSplit(authorization.slice(space + 1), ',')) {
    const trimmed = javaTrim(pair);
    const equals = trimmed.indexOf('=');
    if (equals < 0) throw unauthorized('authentication keyValues length is incorrect, actual length=1.');
    const key = trimmed.slice(0, equals);
    const value = trimmed.slice(equals + 1);
    if (key === 'Credential') {
      const parts = javaSplit(value, '/');
      if (parts.length === 0) throw unauthorized('authentication credential length is incorrect, actual length=0.');
      accessKey = parts[0]!;
    } else if (key === 'Signature') {
      if (value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value)) throw unauthorized('create authentication context error.');
      signature = Buffer.from(value, 'hex');
    }
  }
  return { accessKey, signature, content: dateTime };
}

/** Whether the request was signed with `secretKey`, compared in constant time. */
export function signedWith(request: SignedRequest, secretKey: string): boolean {
  const expected = createHmac('sha1', secretKey).update(request.content, 'utf8').digest();
  const actual = request.signature;
  return actual !== undefined && actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function unauthorized(message: string): RocketError {
  return new RocketError('UNAUTHORIZED', message);
}

/** Java's String.split(separator) for a one-character separator: trailing empty strings are dropped, but "" splits to [""]. */
function javaSplit(text: string, separator: string): string[] {
  if (text === '') return [''];
  const parts = text.split(separator);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Java's String.trim: strips characters up to U+0020 at both ends. */
function javaTrim(text: string): string {
  return text.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
}
