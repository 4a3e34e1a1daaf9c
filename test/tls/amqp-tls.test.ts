import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroker, type Broker } from '../../core/index.ts';
import { rabbit } from '../../plugins/rabbit/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';
import { hasProgram, runPython } from '../helpers/programs.ts';
import { makeTestCertificates, tlsFlags, type IssuedCertificate, type TestCertificates } from '../helpers/tls.ts';

const haveOpenssl = hasProgram('openssl', 'the AMQPS tests');
const havePika = haveOpenssl && hasProgram('pika', 'the pika AMQPS tests');

const ALL = { '/': { configure: '.*', write: '.*', read: '.*' } };
const USERS = [
  { name: 'guest', password: 'guest', loopbackOnly: true, permissions: ALL },
  // EXTERNAL users: no password is checked, but the user must exist.
  { name: 'CN=alice,O=Acme', password: 'unused-alice', permissions: ALL },
  { name: 'carol', password: 'unused-carol', permissions: ALL },
  { name: 'CN=dave,OU=R&D,O=Acme\\, Inc,C=US', password: 'unused-dave', permissions: ALL },
];

async function startAmqps(certs: TestCertificates, clientAuth: 'none' | 'request' | 'require', amqpSettings: Record<string, unknown> = {}): Promise<{ broker: Broker; port: number }> {
  const broker = await createBroker({
    plugins: [memoryStorage(), rabbit()],
    config: { logLevel: 'error', host: '127.0.0.1', tls: tlsFlags(certs, clientAuth), amqp: { port: 'auto', tlsPort: 'auto', users: JSON.stringify(USERS), ...amqpSettings }, topics: { flush: 'never' } },
  });
  await broker.start();
  return { broker, port: broker.listeners().find((l) => l.protocol === 'amqp-tls')!.port };
}

/** A round trip through a fresh queue: what a connection that really logged in can do. */
async function roundTrip(connection: amqp.ChannelModel, queue: string): Promise<string> {
  const channel = await connection.createChannel();
  await channel.assertQueue(queue, { exclusive: true });
  channel.sendToQueue(queue, Buffer.from(`through ${queue}`));
  for (let i = 0; i < 50; i++) {
    const got = await channel.get(queue, { noAck: true });
    if (got) return got.content.toString();
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the message did not arrive');
}

const pikaScript = (port: number, certs: TestCertificates, client: IssuedCertificate | undefined, credentials: string) => `
import ssl, pika
ctx = ssl.create_default_context(cafile=${JSON.stringify(certs.ca.certFile)})
${client ? `ctx.load_cert_chain(${JSON.stringify(client.certFile)}, ${JSON.stringify(client.keyFile)})` : ''}
params = pika.ConnectionParameters(host='localhost', port=${port}, ssl_options=pika.SSLOptions(ctx, 'localhost'), credentials=${credentials}, connection_attempts=1)
try:
    conn = pika.BlockingConnection(params)
except pika.exceptions.ProbableAuthenticationError as e:
    print('refused', e)
    raise SystemExit(0)
ch = conn.channel()
q = ch.queue_declare('', exclusive=True).method.queue
ch.basic_publish('', q, b'pika over amqps')
for _ in range(50):
    method, props, body = ch.basic_get(q, auto_ack=True)
    if body:
        print(body.decode())
        break
    conn.sleep(0.02)
conn.close()
`;

describe.skipIf(!haveOpenssl)('AMQP 0-9-1 over TLS (--amqp-tls-port) and EXTERNAL', () => {
  let certs: TestCertificates;
  let broker: Broker;
  let port: number;
  beforeAll(async () => {
    certs = await makeTestCertificates({ alice: [['O', 'Acme'], ['CN', 'alice']], carol: [['O', 'Acme'], ['CN', 'carol']], dave: [['C', 'US'], ['O', 'Acme, Inc'], ['OU', 'R&D'], ['CN', 'dave']], nobody: [['CN', 'nobody']] });
    ({ broker, port } = await startAmqps(certs, 'request'));
  });
  afterAll(async () => {
    await broker?.stop();
    certs?.remove();
  });

  const amqps = (client?: IssuedCertificate, external = false) =>
    amqp.connect(
      { protocol: 'amqps', hostname: 'localhost', port, ...(external ? {} : { username: 'guest', password: 'guest' }) },
      { ca: [certs.ca.cert], ...(client ? { cert: client.cert, key: client.key } : {}), ...(external ? { credentials: amqp.credentials.external() } : {}) },
    );

  it('amqplib over amqps logs in with PLAIN and publishes and gets', async () => {
    const connection = await amqps();
    expect(await roundTrip(connection, 'amqplib-tls')).toBe('through amqplib-tls');
    await connection.close();
  });

  it('EXTERNAL (amqplib): a verified client certificate logs in as its subject DN, RabbitMQ-style (CN=alice,O=Acme)', async () => {
    const connection = await amqps(certs.clients.alice, true);
    expect(await roundTrip(connection, 'external-alice')).toBe('through external-alice');
    await connection.close();
  });

  it('EXTERNAL: the DN is escaped as RabbitMQ writes it (RFC 4514), matching openssl -nameopt RFC2253', async () => {
    const connection = await amqps(certs.clients.dave, true);
    expect(await roundTrip(connection, 'external-dave')).toBe('through external-dave');
    await connection.close();
  });

  it('EXTERNAL is refused with ACCESS_REFUSED without a client certificate, and for a certificate naming no user', async () => {
    await expect(amqps(undefined, true)).rejects.toThrow(/ACCESS_REFUSED|403/);
    await expect(amqps(certs.clients.nobody, true)).rejects.toThrow(/ACCESS_REFUSED|403/);
  });

  it.skipIf(!havePika)('pika over amqps: PLAIN, and EXTERNAL with a client certificate', async () => {
    expect((await runPython(pikaScript(port, certs, undefined, "pika.PlainCredentials('guest', 'guest')"))).trim()).toBe('pika over amqps');
    expect((await runPython(pikaScript(port, certs, certs.clients.alice, 'pika.credentials.ExternalCredentials()'))).trim()).toBe('pika over amqps');
    expect((await runPython(pikaScript(port, certs, undefined, 'pika.credentials.ExternalCredentials()'))).trim()).toMatch(/^refused/);
  });

  it('--amqp-ssl-cert-login-from common_name: the certificate CN is the user', async () => {
    const cn = await startAmqps(certs, 'request', { sslCertLoginFrom: 'common_name' });
    try {
      const connect = (client: IssuedCertificate) =>
        amqp.connect({ protocol: 'amqps', hostname: 'localhost', port: cn.port }, { ca: [certs.ca.cert], cert: client.cert, key: client.key, credentials: amqp.credentials.external() });
      const connection = await connect(certs.clients.carol);
      expect(await roundTrip(connection, 'external-carol')).toBe('through external-carol');
      await connection.close();
      await expect(connect(certs.clients.alice)).rejects.toThrow(/ACCESS_REFUSED|403/);
    } finally {
      await cn.broker.stop();
    }
  });

  it('--tls-client-auth require: amqps without a client certificate is refused during the handshake', async () => {
    const strict = await startAmqps(certs, 'require');
    try {
      const connect = (client?: IssuedCertificate) =>
        amqp.connect({ protocol: 'amqps', hostname: 'localhost', port: strict.port, username: 'guest', password: 'guest' }, { ca: [certs.ca.cert], ...(client ? { cert: client.cert, key: client.key } : {}) });
      await expect(connect()).rejects.toThrow();
      await expect(connect(certs.rogue)).rejects.toThrow();
      const connection = await connect(certs.clients.alice);
      expect(await roundTrip(connection, 'strict')).toBe('through strict');
      await connection.close();
    } finally {
      await strict.broker.stop();
    }
  });
});
