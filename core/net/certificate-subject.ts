import { malformed } from '../errors.ts';

/** One attribute of a distinguished name: its type as a dotted OID, and its value as text. */
export interface NameAttribute {
  oid: string;
  /** The decoded string; a value of a non-string type is RFC 4514's `#` and the hex of its DER encoding. */
  value: string;
}

/** Attribute types protocols name users by. */
export const NAME_OIDS = { commonName: '2.5.4.3' } as const;

interface Element {
  tag: number;
  /** Where the element starts (its tag byte), where its content starts, and where it ends. */
  start: number;
  content: number;
  end: number;
}

/**
 * The subject of an X.509 certificate (`X509Certificate.raw`): its relative distinguished names in the
 * order the certificate holds them, each a set of attributes (usually one). Throws MALFORMED_INPUT on
 * bytes that are not a DER certificate.
 */
export function certificateSubject(der: Uint8Array): NameAttribute[][] {
  const certificate = element(der, 0, der.length, 0x30);
  const tbs = element(der, certificate.content, certificate.end, 0x30);
  let at = tbs.content;
  const next = (tag: number): Element => {
    const e = element(der, at, tbs.end, tag);
    at = e.end;
    return e;
  };
  if (der[at] === 0xa0) next(0xa0); // version
  next(0x02); // serialNumber
  next(0x30); // signature
  next(0x30); // issuer
  next(0x30); // validity
  return relativeNames(der, next(0x30));
}

function relativeNames(der: Uint8Array, name: Element): NameAttribute[][] {
  const names: NameAttribute[][] = [];
  for (let at = name.content; at < name.end; ) {
    const set = element(der, at, name.end, 0x31);
    const attributes: NameAttribute[] = [];
    for (let inner = set.content; inner < set.end; ) {
      const pair = element(der, inner, set.end, 0x30);
      const type = element(der, pair.content, pair.end, 0x06);
      const value = element(der, type.end, pair.end);
      if (value.end !== pair.end) throw malformed('certificate subject: an attribute has more than a type and a value');
      attributes.push({ oid: objectIdentifier(der.subarray(type.content, type.end)), value: text(der, value) });
      inner = pair.end;
    }
    if (attributes.length === 0) throw malformed('certificate subject: an empty relative distinguished name');
    names.push(attributes);
    at = set.end;
  }
  return names;
}

/** Reads one DER element (low tag numbers, definite lengths) within [offset, limit). */
function element(der: Uint8Array, offset: number, limit: number, expectedTag?: number): Element {
  if (offset + 2 > limit) throw malformed('certificate: truncated');
  const tag = der[offset]!;
  if (expectedTag !== undefined && tag !== expectedTag) throw malformed(`certificate: tag 0x${tag.toString(16)} where 0x${expectedTag.toString(16)} belongs`);
  let length = der[offset + 1]!;
  let content = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || content + bytes > limit) throw malformed('certificate: bad length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[content + i]!;
    content += bytes;
  }
  const end = content + length;
  if (end > limit) throw malformed('certificate: an element runs past its container');
  return { tag, start: offset, content, end };
}

function objectIdentifier(bytes: Uint8Array): string {
  if (bytes.length === 0 || (bytes[bytes.length - 1]! & 0x80) !== 0) throw malformed('certificate: bad object identifier');
  const arcs: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) throw malformed('certificate: object identifier arc too large');
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(Math.min(2, Math.floor(value / 40)), value - Math.min(2, Math.floor(value / 40)) * 40);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

function text(der: Uint8Array, value: Element): string {
  const bytes = Buffer.from(der.buffer, der.byteOffset + value.content, value.end - value.content);
  switch (value.tag) {
    case 0x0c: // UTF8String
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x1a: // VisibleString
      return bytes.toString('utf8');
    case 0x14: // TeletexString, read as Latin-1 as most software does
      return bytes.toString('latin1');
    case 0x1e: // BMPString: UCS-2, big-endian
      return bytes.length % 2 === 0 ? Buffer.from(bytes).swap16().toString('utf16le') : hexForm(der, value);
    case 0x1c: // UniversalString: UCS-4, big-endian
      if (bytes.length % 4 !== 0) return hexForm(der, value);
      return Array.from({ length: bytes.length / 4 }, (_, i) => codePoint(bytes.readUInt32BE(i * 4))).join('');
    default:
      return hexForm(der, value);
  }
}

function codePoint(value: number): string {
  return value <= 0x10ffff ? String.fromCodePoint(value) : '\ufffd';
}

/** RFC 4514 §2.4: a value that is not a string is written as `#` and its BER encoding in hex. */
function hexForm(der: Uint8Array, value: Element): string {
  return `#${Buffer.from(der.subarray(value.start, value.end)).toString('hex')}`;
}
