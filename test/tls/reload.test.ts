import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.ts';
import { eventually } from '../helpers/kafka.ts';
import { hasProgram } from '../helpers/programs.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { makeTestCertificates, type IssuedCertificate, type TestCertificates } from '../helpers/tls.ts';

/** A TLS connection to `port` that trusts the test CA and checks the name `localhost`. */
function connect(port: number, certs: TestCertificates): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca.cert }, () => resolve(socket));
    socket.once('error', reject);
  });
}

async function servedSerial(port: number, certs: TestCertificates): Promise<string> {
  const socket = await connect(port, certs);
  const serial = socket.getPeerX509Certificate()!.serialNumber;
  socket.destroy();
  return serial;
}

const serialOf = (issued: IssuedCertificate): string => new X509Certificate(issued.cert).serialNumber;

/** A Kafka ApiVersions v0 request on an open connection; resolves with the correlation id of the answer. */
function apiVersions(socket: tls.TLSSocket, correlationId: number): Promise<number> {
  const clientId = Buffer.from('reload-test');
  const frame = Buffer.alloc(4 + 10 + clientId.length);
  frame.writeInt32BE(frame.length - 4, 0);
  frame.writeInt16BE(18, 4);
  frame.writeInt16BE(0, 6);
  frame.writeInt32BE(correlationId, 8);
  frame.writeInt16BE(clientId.length, 12);
  clientId.copy(frame, 14);
  return new Promise((resolve, reject) => {
    socket.once('data', (chunk: Buffer) => resolve(chunk.readInt32BE(4)));
    socket.once('error', reject);
    socket.write(frame);
  });
}

describe.skipIf(!hasProgram('openssl', 'the TLS reload test'))('TLS certificates reload on SIGHUP', () => {
  let certs: TestCertificates;
  let data: { path: string; remove(): void };
  let broker: BrokerProcess;
  let certFile: string;
  let keyFile: string;
  const install = (issued: IssuedCertificate) => {
    fs.copyFileSync(issued.certFile, certFile);
    fs.copyFileSync(issued.keyFile, keyFile);
  };
  beforeAll(async () => {
    certs = await makeTestCertificates();
    data = tempDir();
    certFile = path.join(certs.dir, 'live.pem');
    keyFile = path.join(certs.dir, 'live.key');
    install(certs.server);
    broker = await startBrokerProcess(data.path, ['--tls-cert', certFile, '--tls-key', keyFile, '--kafka-tls-port', 'auto', '--amqp-tls-port', 'auto']);
  });
  afterAll(async () => {
    await broker?.stop();
    data?.remove();
    certs?.remove();
  });

  it('new connections get the new certificate on every TLS listener, open ones keep working; files that do not load leave the old certificate in use', async () => {
    const kafkaTls = broker.ports['kafka-tls']!;
    const amqpTls = broker.ports['amqp-tls']!;
    const original = certs.server;
    expect(await servedSerial(kafkaTls, certs)).toBe(serialOf(original));
    const open = await connect(kafkaTls, certs);
    expect(await apiVersions(open, 1)).toBe(1);

    const renewed = await certs.issue('renewed', [['CN', 'localhost']], { server: true });
    expect(serialOf(renewed)).not.toBe(serialOf(original));
    install(renewed);
    broker.child.kill('SIGHUP');
    await eventually(async () => (await servedSerial(kafkaTls, certs)) === serialOf(renewed), 10_000, 'the renewed certificate on kafka-tls');
    expect(await servedSerial(amqpTls, certs)).toBe(serialOf(renewed));
    // The connection opened before the reload is still served, with the certificate it was opened with.
    expect(open.getPeerX509Certificate()!.serialNumber).toBe(serialOf(original));
    expect(await apiVersions(open, 2)).toBe(2);
    open.destroy();

    fs.writeFileSync(certFile, 'not a certificate');
    broker.child.kill('SIGHUP');
    await eventually(() => broker.stderr().includes('TLS certificates not reloaded'), 10_000, 'the reload failure logged');
    expect(broker.child.exitCode).toBeNull();
    expect(await servedSerial(kafkaTls, certs)).toBe(serialOf(renewed));
  });
});
