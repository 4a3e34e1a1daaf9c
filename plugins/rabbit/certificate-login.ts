import type { X509Certificate } from 'node:crypto';
import { certificateSubject, NAME_OIDS, type NameAttribute } from '../../core/index.ts';

/** RabbitMQ's `ssl_cert_login_from`: which part of a client certificate names the EXTERNAL user. */
export type CertificateLoginFrom = 'distinguished_name' | 'common_name';

/** Attribute names as RabbitMQ writes them in a distinguished name; other types appear as their dotted OID. */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.4': 'SN',
  '2.5.4.42': 'GIVENNAME',
  '2.5.4.43': 'INITIALS',
  '2.5.4.44': 'GENERATIONQUALIFIER',
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'TITLE',
  '2.5.4.6': 'C',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.65': 'PSEUDONYM',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'EMAILADDRESS',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.1': 'UID',
};

/**
 * The user name a verified client certificate logs in as with EXTERNAL (rabbitmq_auth_mechanism_ssl):
 * the subject's distinguished name as RabbitMQ writes it (RFC 4514 order, last RDN first:
 * `CN=alice,O=Acme,C=US` for a certificate issued as C, O, CN), or its common names joined with `,`.
 * Undefined when the certificate names no user that way.
 */
export function certificateUserName(certificate: X509Certificate, from: CertificateLoginFrom): string | undefined {
  const subject = certificateSubject(certificate.raw);
  if (from === 'common_name') {
    const names = subject.flat().filter((a) => a.oid === NAME_OIDS.commonName);
    return names.length > 0 ? names.map((a) => a.value).join(',') : undefined;
  }
  return subject.length > 0 ? subject.map((rdn) => rdn.map(attribute).join('+')).reverse().join(',') : undefined;
}

function attribute({ oid, value }: NameAttribute): string {
  return `${ATTRIBUTE_NAMES[oid] ?? oid}=${escapeValue(value)}`;
}

/**
 * RFC 4514 escaping as RabbitMQ does it, byte by byte over UTF-8: `\` before a leading space or `#`, a
 * trailing space and `"+,;<>\`; `\XX` for control bytes and bytes from 0x7E up (every non-ASCII byte).
 */
export function escapeValue(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    const char = String.fromCharCode(byte);
    if (i === 0 && (char === ' ' || char === '#')) out += `\\${char}`;
    else if (i === bytes.length - 1 && char === ' ') out += '\\ ';
    else if ('"+,;<>\\'.includes(char)) out += `\\${char}`;
    else if (byte < 32 || byte >= 126) out += `\\${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += char;
  }
  return out;
}
