import { createHmac } from 'node:crypto';
import http2 from 'node:http2';
import { logVerbosity as LogVerbosity, setLogVerbosity } from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TOKENS, type AclBinding, type Security } from '../../core/index.ts';
import { quietLogger, receiveAll, SimpleConsumer, startRocket, Producer, type RocketTestBroker } from '../helpers/rocket.ts';
import { rawRocketClient } from '../helpers/rocket-wire.ts';

const DELAY_MS = 250;

/** `x-mq-date-time` as clients send it: yyyyMMdd'T'HHmmss'Z'. */
const dateTime = (date = new Date()) => date.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
const sign = (secret: string, text: string) => createHmac('sha1', secret).update(text).digest('hex').toUpperCase();
const signed = (accessKey: string, secret: string, at = dateTime()) => ({
  authorization: `MQv2-HMAC-SHA1 Credential=${accessKey}, SignedHeaders=x-mq-date-time, Signature=${sign(secret, at)}`,
  'x-mq-date-time': at,
});

const acl = (user: string, resourceType: 'topic' | 'group', resourceName: string, operation: AclBinding['operation'], over: Partial<AclBinding> = {}): AclBinding => ({
  resourceType,
  resourceName,
  patternType: 'literal',
  principal: `User:${user}`,
  host: '*',
  operation,
  permission: 'allow',
  ...over,
});

/** A RocketMQ user (access key = user name, secret key kept for HMAC) and its bindings, through core/security. */
async function addRocketUser(broker: RocketTestBroker, name: string, secretKey: string, acls: AclBinding[] = [], superUser = false): Promise<void> {
  const security = broker.broker.get<Security>(TOKENS.Security);
  await security.store.updateUser(name, () => ({ name, secretKey, ...(superUser ? { superUser } : {}) }));
  if (acls.length > 0) await security.addAcls(acls);
}

const clientOptions = (broker: RocketTestBroker, credentials?: { accessKey: string; accessSecret: string }) => ({
  endpoints: broker.endpoints,
  namespace: '',
  logger: quietLogger,
  ...(credentials ? { sessionCredentials: credentials } : {}),
});

/** A started producer that names no topic up front, so its first RPC is the send's route query. */
async function producer(broker: RocketTestBroker, credentials?: { accessKey: string; accessSecret: string }): Promise<Producer> {
  const started = new Producer(clientOptions(broker, credentials) as never);
  await started.startup();
  return started;
}

/** The rejection of a promise (the official client's exceptions carry the status code). */
async function refusal(promise: Promise<unknown>): Promise<{ code?: number; message: string; cause?: unknown }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: number; message: string };
  }
  throw new Error('expected a refusal');
}

const codeOf = (response: Record<string, unknown>) => (response.status as { code: string }).code;
const messageOf = (response: Record<string, unknown>) => (response.status as { message: string }).message;

describe('RocketMQ ACL 2.0: signed requests, PUB/SUB permissions (rocketmq-client-nodejs sessionCredentials)', () => {
  let broker: RocketTestBroker;
  let raw: ReturnType<typeof rawRocketClient>;
  beforeAll(async () => {
    broker = await startRocket({
      rocket: { topics: { orders: 'NORMAL', audit: 'NORMAL' } },
      config: { allowAnonymous: 'false', security: { allowEveryoneIfNoAclFound: 'false', failedAuthenticationDelayMs: DELAY_MS } },
    });
    await addRocketUser(broker, 'alice', 'alice-secret', [acl('alice', 'topic', 'orders', 'write'), acl('alice', 'topic', 'orders', 'read'), acl('alice', 'group', 'billing', 'read')]);
    await addRocketUser(broker, 'bob', 'bob-secret', [
      acl('bob', 'topic', 'orders', 'read'),
      acl('bob', 'group', 'bill', 'read', { patternType: 'prefixed' }),
      acl('bob', 'group', 'billing', 'read', { permission: 'deny' }),
      acl('bob', 'topic', 'audit', 'write'),
      acl('bob', 'topic', 'aud', 'write', { patternType: 'prefixed', permission: 'deny' }),
    ]);
    await addRocketUser(broker, 'root', 'root-secret', [], true);
    raw = rawRocketClient(broker.endpoints);
  });
  afterAll(async () => {
    raw.close();
    await broker.stop();
  });

  it('lets alice, signing with her secret key, send and receive; the same calls unsigned are refused', async () => {
    const alice = await producer(broker, { accessKey: 'alice', accessSecret: 'alice-secret' });
    const receipt = await alice.send({ topic: 'orders', tag: 'T', body: Buffer.from('paid') });
    const consumer = new SimpleConsumer({ ...clientOptions(broker, { accessKey: 'alice', accessSecret: 'alice-secret' }), consumerGroup: 'billing', subscriptions: new Map([['orders', '*']]), awaitDuration: 500 } as never);
    await consumer.startup();
    const [message] = await receiveAll(consumer, 1);
    expect(message!.messageId).toBe(receipt.messageId);
    expect(message!.body.toString()).toBe('paid');
    await consumer.ack(message!);
    await consumer.shutdown();
    await alice.shutdown();

    const anonymous = await producer(broker);
    const err = await refusal(anonymous.send({ topic: 'orders', body: Buffer.from('x') }));
    expect(err.code).toBe(40100);
    expect(err.message).toMatch(/username cannot be null/);
    await anonymous.shutdown();
  });

  it('refuses a wrong secret with UNAUTHORIZED (40100), logged and only after the failed-authentication delay', async () => {
    const security = broker.broker.get<Security>(TOKENS.Security);
    const failed = vi.spyOn(security, 'authenticationFailed');
    const impostor = await producer(broker, { accessKey: 'alice', accessSecret: 'wrong' });
    const err = await refusal(impostor.send({ topic: 'orders', body: Buffer.from('x') }));
    expect(err.code).toBe(40100);
    expect(err.message).toMatch(/check signature failed/);
    await impostor.shutdown();
    expect(failed).toHaveBeenCalledWith(expect.objectContaining({ protocol: 'rocketmq', user: 'alice', reason: 'check signature failed.' }));
    failed.mockRestore();

    const started = Date.now();
    const response = await raw.unary('QueryRoute', { topic: { name: 'orders' } }, 'raw', signed('alice', 'not-her-secret'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(DELAY_MS - 10);
    expect(codeOf(response)).toBe('UNAUTHORIZED');
    expect(codeOf(await raw.unary('QueryRoute', { topic: { name: 'orders' } }, 'raw', signed('alice', 'alice-secret')))).toBe('OK');
  });

  it('refuses a send by a user without PUB on the topic, though it may route and read it', async () => {
    const bob = await producer(broker, { accessKey: 'bob', accessSecret: 'bob-secret' });
    const err = await refusal(bob.send({ topic: 'orders', body: Buffer.from('x') }));
    expect(err.code).toBe(40100);
    expect(err.message).toMatch(/User:bob has no permission to access Topic:orders from 127\.0\.0\.1, no matched policies/);
    await bob.shutdown();
    expect(codeOf(await raw.unary('QueryRoute', { topic: { name: 'orders' } }, 'raw', signed('bob', 'bob-secret')))).toBe('OK');
  });

  it('refuses a consumer whose group SUB is denied: the client fails to start, ReceiveMessage and Ack are UNAUTHORIZED', async () => {
    const consumer = new SimpleConsumer({ ...clientOptions(broker, { accessKey: 'bob', accessSecret: 'bob-secret' }), consumerGroup: 'billing', subscriptions: new Map([['orders', '*']]), awaitDuration: 500 } as never);
    const err = await refusal(consumer.startup());
    expect(JSON.stringify({ message: err.message, cause: String(err.cause) })).toMatch(/Group:billing .*the decision is deny/);
    await consumer.shutdown().catch(() => undefined);

    const receive = (group: string) =>
      raw.stream('ReceiveMessage', { group: { name: group }, messageQueue: { topic: { name: 'orders' } }, batchSize: 1, invisibleDuration: { seconds: 10 } }, 'raw', signed('bob', 'bob-secret'));
    const denied = (await receive('billing')).at(-1)!;
    expect(codeOf(denied)).toBe('UNAUTHORIZED');
    expect(messageOf(denied)).toBe('User:bob has no permission to access Group:billing from 127.0.0.1, the decision is deny.');
    expect(codeOf((await receive('bill-other')).at(-1)!)).toBe('MESSAGE_NOT_FOUND');
    const ack = await raw.unary('AckMessage', { group: { name: 'billing' }, topic: { name: 'orders' }, entries: [{ messageId: 'x', receiptHandle: 'h' }] }, 'raw', signed('bob', 'bob-secret'));
    expect(codeOf(ack)).toBe('UNAUTHORIZED');
    const change = await raw.unary('ChangeInvisibleDuration', { group: { name: 'billing' }, topic: { name: 'orders' }, receiptHandle: 'h', invisibleDuration: { seconds: 1 } }, 'raw', signed('bob', 'bob-secret'));
    expect(codeOf(change)).toBe('UNAUTHORIZED');
    const heartbeat = await raw.unary('Heartbeat', { group: { name: 'billing' }, clientType: 'SIMPLE_CONSUMER' }, 'raw', signed('bob', 'bob-secret'));
    expect(codeOf(heartbeat)).toBe('UNAUTHORIZED');
  });

  it('lets the most specific binding decide, as RocketMQ does: a literal ALLOW beats a prefixed DENY; super users may do anything', async () => {
    const message = (topic: string) => ({ topic: { name: topic }, body: Buffer.from('x'), systemProperties: { messageId: `ID-${topic}`, messageType: 'NORMAL', bodyEncoding: 'IDENTITY', bornTimestamp: { seconds: 1 } } });
    const send = (user: string, secret: string, ...topics: string[]) => raw.unary('SendMessage', { messages: topics.map(message) }, 'raw', signed(user, secret));
    expect(codeOf(await send('bob', 'bob-secret', 'audit'))).toBe('OK');
    expect(codeOf(await send('root', 'root-secret', 'audit'))).toBe('OK');
    expect(codeOf(await send('alice', 'alice-secret', 'audit'))).toBe('UNAUTHORIZED');
    // Every topic of a batch is checked, not only the first message's.
    expect(messageOf(await send('bob', 'bob-secret', 'audit', 'audit', 'orders'))).toMatch(/^User:bob has no permission to access Topic:orders /);
  });

  it('applies a changed secret key or a removed binding from the next call on', async () => {
    await addRocketUser(broker, 'carol', 'first', [acl('carol', 'topic', 'orders', 'read')]);
    const headers = signed('carol', 'first');
    const query = () => raw.unary('QueryRoute', { topic: { name: 'orders' } }, 'raw', headers);
    expect(codeOf(await query())).toBe('OK');
    const security = broker.broker.get<Security>(TOKENS.Security);
    await security.removeAcls([{ principal: 'User:carol' }]);
    expect(messageOf(await query())).toBe('User:carol has no permission to access Topic:orders from 127.0.0.1, no matched policies.');
    await security.addAcls([acl('carol', 'topic', 'orders', 'read')]);
    expect(codeOf(await query())).toBe('OK');
    await addRocketUser(broker, 'carol', 'second');
    expect(messageOf(await query())).toBe('check signature failed.');
  });

  it("reads the authorization header as the proxy does, with its messages", async () => {
    const at = dateTime();
    const query = (headers: Record<string, string>) => raw.unary('QueryRoute', { topic: { name: 'orders' } }, 'raw', headers);
    const lower = `MQv2-HMAC-SHA1 Credential=alice/20250101/region, SignedHeaders=x-mq-date-time, Signature=${sign('alice-secret', at).toLowerCase()}`;
    expect(codeOf(await query({ authorization: lower, 'x-mq-date-time': at }))).toBe('OK');
    const cases: Array<[Record<string, string>, string]> = [
      [{ authorization: signed('alice', 'alice-secret').authorization }, 'datetime is null.'],
      [{ authorization: 'MQv2-HMAC-SHA1', 'x-mq-date-time': at }, 'authentication header is incorrect.'],
      [{ authorization: 'MQv2-HMAC-SHA1 Credential', 'x-mq-date-time': at }, 'authentication keyValues length is incorrect, actual length=1.'],
      [{ authorization: 'MQv2-HMAC-SHA1 Credential=/', 'x-mq-date-time': at }, 'authentication credential length is incorrect, actual length=0.'],
      [{ authorization: 'MQv2-HMAC-SHA1 Credential=alice, Signature=ABC', 'x-mq-date-time': at }, 'create authentication context error.'],
      [{ authorization: 'MQv2-HMAC-SHA1 Signature=AB', 'x-mq-date-time': at }, 'username cannot be null.'],
      [signed('mallory', 'x', at), 'User:mallory is not found.'],
      [{ authorization: 'MQv2-HMAC-SHA1 Credential=alice', 'x-mq-date-time': at }, 'check signature failed.'],
    ];
    for (const [headers, message] of cases) {
      const response = await query(headers);
      expect([codeOf(response), messageOf(response)]).toEqual(['UNAUTHORIZED', message]);
    }
  });
});

/** Reads `status.code` from an encoded response whose field 1 is its Status (field 1: the code). */
function statusCode(message: Buffer): number {
  const varint = (at: number): [number, number] => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = message[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return [value, at];
    }
  };
  if (message[0] !== 0x0a) return -1;
  const [, start] = varint(1);
  return message[start] === 0x08 ? varint(start + 1)[0] : 0;
}

describe('RocketMQ authorization header fuzz', () => {
  let broker: RocketTestBroker;
  let raw: ReturnType<typeof rawRocketClient>;
  beforeAll(async () => {
    broker = await startRocket({ config: { allowAnonymous: 'false', security: { failedAuthenticationDelayMs: 0 } } });
    await addRocketUser(broker, 'alice', 'alice-secret', [], true);
    raw = rawRocketClient(broker.endpoints);
  });
  afterAll(async () => {
    raw.close();
    await broker.stop();
  });

  it('answers every malformed or forged header with UNAUTHORIZED and keeps serving', async () => {
    const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 120 });
    const fragment = fc.constantFrom('MQv2-HMAC-SHA1', ' ', ',', ', ', '=', '/', 'Credential=', 'Credential=alice', 'SignedHeaders=x-mq-date-time', 'Signature=', 'alice');
    const hex = fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b).toString('hex'));
    const header = fc.oneof(printable, fc.array(fc.oneof(fragment, hex, printable), { maxLength: 12 }).map((parts) => parts.join('')));
    const at = fc.option(printable, { nil: undefined });
    const rpc = fc.constantFrom('QueryRoute', 'SendMessage', 'Heartbeat', 'AckMessage', 'ReceiveMessage');
    await fc.assert(
      fc.asyncProperty(rpc, header, at, async (method, authorization, time) => {
        const headers: Record<string, string | string[]> = { authorization, ...(time === undefined ? {} : { 'x-mq-date-time': time }) };
        const request = { topic: { name: 't' }, group: { name: 'g' }, messageQueue: { topic: { name: 't' } }, batchSize: 1, invisibleDuration: { seconds: 10 } };
        const response = method === 'ReceiveMessage' ? (await raw.stream(method, request, 'raw', headers)).at(-1)! : await raw.unary(method, request, 'raw', headers);
        const empty = authorization === '';
        expect(codeOf(response)).toBe('UNAUTHORIZED');
        if (empty) expect(messageOf(response)).toBe('username cannot be null.');
      }),
      { numRuns: 200 },
    );
    expect(codeOf(await raw.unary('QueryRoute', { topic: { name: 't' } }, 'raw', signed('alice', 'alice-secret')))).toBe('OK');
  });

  it('survives header bytes no gRPC client would send (tabs, control and high bytes)', async () => {
    const session = http2.connect(`http://${broker.endpoints}`);
    const emptyRequest = Buffer.alloc(5); // a gRPC frame: not compressed, 0 bytes of QueryRouteRequest
    /** The gRPC status and the response's RocketMQ status code (QueryRouteResponse field 1, its field 1). */
    const call = (authorization: string) =>
      new Promise<[string, number] | undefined>((resolve) => {
        const stream = session.request({ ':method': 'POST', ':path': '/apache.rocketmq.v2.MessagingService/QueryRoute', 'content-type': 'application/grpc', te: 'trailers', 'x-mq-client-id': 'raw', 'x-mq-date-time': '20250101T000000Z', authorization });
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('trailers', (trailers) => resolve([String(trailers['grpc-status']), statusCode(Buffer.concat(chunks).subarray(5))]));
        stream.on('error', () => resolve(undefined));
        stream.on('close', () => resolve(undefined));
        stream.end(emptyRequest);
      });
    setLogVerbosity(LogVerbosity.NONE); // grpc-js logs each header value it drops as illegal
    const bytes = fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b.filter((c) => c !== 0 && c !== 10 && c !== 13)).toString('latin1'));
    await fc.assert(
      fc.asyncProperty(fc.oneof(bytes, bytes.map((b) => `MQv2-HMAC-SHA1 Credential=alice${b}, Signature=${b}`)), async (authorization) => {
        expect(await call(authorization)).toEqual(['0', 40100]);
      }),
      { numRuns: 150 },
    );
    setLogVerbosity(LogVerbosity.ERROR);
    session.close();
    expect(codeOf(await raw.unary('QueryRoute', { topic: { name: 't' } }, 'raw', signed('alice', 'alice-secret')))).toBe('OK');
  });
});
