import fs from 'node:fs';
import path from 'node:path';
import { runProgram } from './programs.ts';
import { tempDir } from './temp-dir.ts';

/** A PEM certificate and its private key, and where they were written. */
export interface IssuedCertificate {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

/** A test CA, a server certificate for localhost / 127.0.0.1 / ::1 signed by it, client certificates, and their files. */
export interface TestCertificates {
  dir: string;
  ca: IssuedCertificate;
  server: IssuedCertificate;
  /** Client certificates signed by the CA, by name. */
  clients: Record<string, IssuedCertificate>;
  /** A self-signed client certificate no trusted CA signed. */
  rogue: IssuedCertificate;
  /** Issues another certificate from the CA (say, a replacement server certificate) into `dir`. */
  issue(name: string, subject: Subject, options?: { server?: boolean }): Promise<IssuedCertificate>;
  remove(): void;
}

/** Subject attributes in the order the certificate holds them, e.g. `[['O', 'Acme'], ['CN', 'alice']]`. */
export type Subject = ReadonlyArray<readonly [string, string]>;

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * Certificates made with the openssl CLI (EC P-256, SHA-256, valid for two days), written as PEM files
 * into a temporary directory that kcat, Python clients and the broker can read. Needs `openssl`.
 */
export async function makeTestCertificates(clients: Record<string, Subject> = { alice: [['CN', 'alice']] }): Promise<TestCertificates> {
  const dir = tempDir('wharf-tls-');
  const file = (name: string) => path.join(dir.path, name);
  const openssl = (args: string[]) => runProgram('openssl', args, { cwd: dir.path });
  const read = (name: string): IssuedCertificate => ({
    cert: fs.readFileSync(file(`${name}.pem`), 'utf8'),
    key: fs.readFileSync(file(`${name}.key`), 'utf8'),
    certFile: file(`${name}.pem`),
    keyFile: file(`${name}.key`),
  });
  const selfSigned = async (name: string, subject: Subject, extensions: string[]) => {
    await openssl(['req', '-x509', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-sha256', '-subj', subjectArgument(subject), ...extensions.flatMap((e) => ['-addext', e])]);
    return read(name);
  };
  const ca = await selfSigned('ca', [['CN', 'Wharf Test CA']], ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign']);
  const issue = async (name: string, subject: Subject, { server = false } = {}): Promise<IssuedCertificate> => {
    await openssl(['req', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subjectArgument(subject)]);
    const extensions = [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${server ? 'serverAuth' : 'clientAuth'}`,
      ...(server ? ['subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1'] : []),
    ];
    fs.writeFileSync(file(`${name}.ext`), `${extensions.join('\n')}\n`);
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
    fs.chmodSync(file(`${name}.key`), 0o600);
    return read(name);
  };
  const server = await issue('server', [['CN', 'localhost']], { server: true });
  const issued: Record<string, IssuedCertificate> = {};
  for (const [name, subject] of Object.entries(clients)) issued[name] = await issue(name, subject);
  const rogue = await selfSigned('rogue', [['CN', 'mallory']], ['extendedKeyUsage=clientAuth']);
  return { dir: dir.path, ca, server, clients: issued, rogue, issue, remove: dir.remove };
}

/** openssl's `-subj` form: `/O=Acme/CN=alice`, with `/` and `\` in values escaped. */
function subjectArgument(subject: Subject): string {
  return subject.map(([type, value]) => `/${type}=${value.replace(/[\\/]/g, (c) => `\\${c}`)}`).join('');
}

/** Broker flags (the `tls` section) for TLS with these certificates. */
export function tlsFlags(certs: TestCertificates, clientAuth: 'none' | 'request' | 'require' = 'none'): Record<string, unknown> {
  return { cert: certs.server.certFile, key: certs.server.keyFile, ca: certs.ca.certFile, clientAuth };
}
