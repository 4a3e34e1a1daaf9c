import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, Offset } from 'rabbitmq-stream-js-client';
import { hasProgram } from '../helpers/programs.ts';
import { startStream, type StreamTestBroker } from '../helpers/stream.ts';
import { makeTestCertificates, tlsFlags, type TestCertificates } from '../helpers/tls.ts';

const haveOpenssl = hasProgram('openssl', 'the stream-over-TLS test');

describe.skipIf(!haveOpenssl)('the stream protocol over TLS (--stream-tls-port)', () => {
  let certs: TestCertificates;
  let broker: StreamTestBroker;
  beforeAll(async () => {
    certs = await makeTestCertificates();
    broker = await startStream({ stream: { tlsPort: 'auto' }, config: { tls: tlsFlags(certs) } });
  });
  afterAll(async () => {
    await broker?.stop();
    certs?.remove();
  });

  it('publishes and consumes over TLS with rabbitmq-stream-js-client', async () => {
    const port = broker.broker.listeners().find((l) => l.protocol === 'rabbitmq-stream-tls')!.port;
    const client = await connect({ hostname: '127.0.0.1', port, username: 'guest', password: 'guest', vhost: '/', ssl: { ca: certs.ca.cert } });
    try {
      await client.createStream({ stream: 'secret', arguments: {} });
      const publisher = await client.declarePublisher({ stream: 'secret' });
      await publisher.send(Buffer.from('over tls'));
      await publisher.flush();
      const got = await new Promise<string>((resolve) => void client.declareConsumer({ stream: 'secret', offset: Offset.first() }, (m) => resolve(m.content.toString())));
      expect(got).toBe('over tls');
    } finally {
      await client.close().catch(() => {});
    }
  });
});
