import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRocket, type RocketTestBroker } from '../helpers/rocket.ts';
import { rawRocketClient } from '../helpers/rocket-wire.ts';

const message = (overrides: Record<string, unknown> = {}, system: Record<string, unknown> = {}) => ({
  topic: { name: 'plain' },
  body: Buffer.from('x'),
  userProperties: {},
  systemProperties: { messageId: 'ID1', messageType: 'NORMAL', bodyEncoding: 'IDENTITY', bornTimestamp: { seconds: Math.floor(Date.now() / 1000) }, ...system },
  ...overrides,
});

describe('RocketMQ malformed and refused requests get RocketMQ status codes', () => {
  let broker: RocketTestBroker;
  let client: ReturnType<typeof rawRocketClient>;
  beforeAll(async () => {
    broker = await startRocket({ rocket: { autoCreateTopics: false, topics: { plain: 'NORMAL', ordered: 'FIFO', later: 'DELAY' }, maxBodyBytes: 1024, maxPropertiesBytes: 64, maxDelayMs: 60_000 } });
    client = rawRocketClient(broker.endpoints);
  });
  afterAll(async () => {
    client.close();
    await broker.stop();
  });

  const code = (response: Record<string, unknown>) => (response.status as { code: string }).code;
  const send = async (m: object) => code(await client.unary('SendMessage', { messages: [m] }));

  it('requires a client id', async () => {
    expect(code(await client.unary('QueryRoute', { topic: { name: 'plain' } }, ''))).toBe('CLIENT_ID_REQUIRED');
    expect(code((await client.stream('ReceiveMessage', {}, ''))[0]!)).toBe('CLIENT_ID_REQUIRED');
  });

  it('checks sent messages', async () => {
    expect(code(await client.unary('SendMessage', { messages: [] }))).toBe('BAD_REQUEST');
    expect(await send(message({ body: Buffer.alloc(2000) }))).toBe('MESSAGE_BODY_TOO_LARGE');
    expect(await send(message({ body: Buffer.alloc(0) }))).toBe('MESSAGE_BODY_EMPTY');
    expect(await send(message({ userProperties: { UNIQ_KEY: 'x' } }))).toBe('ILLEGAL_MESSAGE_PROPERTY_KEY');
    expect(await send(message({ userProperties: { big: 'v'.repeat(100) } }))).toBe('MESSAGE_PROPERTIES_TOO_LARGE');
    expect(await send(message({}, { messageId: '' }))).toBe('ILLEGAL_MESSAGE_ID');
    expect(await send(message({}, { tag: 'a|b' }))).toBe('ILLEGAL_MESSAGE_TAG');
    expect(await send(message({ topic: { name: 'ordered' } }))).toBe('MESSAGE_PROPERTY_CONFLICT_WITH_TYPE');
    expect(await send(message({ topic: { name: 'ordered' } }, { messageType: 'FIFO' }))).toBe('ILLEGAL_MESSAGE_GROUP');
    expect(await send(message({ topic: { name: 'later' } }, { messageType: 'DELAY', deliveryTimestamp: { seconds: Math.floor(Date.now() / 1000) + 3600 } }))).toBe('ILLEGAL_DELIVERY_TIME');
    expect(await send(message({ topic: { name: 'missing' } }))).toBe('TOPIC_NOT_FOUND');
    expect(await send(message())).toBe('OK');
  });

  it('checks consumption requests', async () => {
    const receive = async (request: object) => code((await client.stream('ReceiveMessage', request)).at(-1)!);
    const base = { group: { name: 'g' }, messageQueue: { topic: { name: 'plain' } }, batchSize: 1, invisibleDuration: { seconds: 10 } };
    expect(await receive({ ...base, invisibleDuration: { nanos: 10_000_000 } })).toBe('ILLEGAL_INVISIBLE_TIME');
    expect(await receive({ ...base, batchSize: 0 })).toBe('BAD_REQUEST');
    expect(await receive({ ...base, group: { name: '' } })).toBe('ILLEGAL_CONSUMER_GROUP');
    expect(await receive({ ...base, filterExpression: { type: 'SQL', expression: 'a >' } })).toBe('ILLEGAL_FILTER_EXPRESSION');
    expect(await receive({ ...base, messageQueue: { topic: { name: 'missing' } } })).toBe('TOPIC_NOT_FOUND');
    const ack = await client.unary('AckMessage', { group: { name: 'g' }, topic: { name: 'plain' }, entries: [{ messageId: 'x', receiptHandle: 'garbage' }] });
    expect(code(ack)).toBe('INVALID_RECEIPT_HANDLE');
    const change = await client.unary('ChangeInvisibleDuration', { group: { name: 'g' }, topic: { name: 'plain' }, receiptHandle: 'a_1_2_3', invisibleDuration: { seconds: 5 } });
    expect(code(change)).toBe('INVALID_RECEIPT_HANDLE');
    expect(code(await client.unary('EndTransaction', { topic: { name: 'plain' }, messageId: 'x', transactionId: 'nope', resolution: 'COMMIT' }))).toBe('INVALID_TRANSACTION_ID');
    expect(code(await client.unary('RecallMessage', { topic: { name: 'later' }, recallHandle: 'nope' }))).toBe('BAD_REQUEST');
  });

  it('answers the RPCs it leaves out with NOT_IMPLEMENTED', async () => {
    expect(code(await client.unary('UpdateOffset', {}))).toBe('NOT_IMPLEMENTED');
    expect(code((await client.stream('PullMessage', {}))[0]!)).toBe('NOT_IMPLEMENTED');
  });

  it('survives arbitrary bytes as request bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('SendMessage', 'QueryRoute', 'AckMessage', 'EndTransaction', 'ChangeInvisibleDuration'), fc.uint8Array({ maxLength: 512 }), async (method, bytes) => {
        await client.rawBytes(method, Buffer.from(bytes));
      }),
      { numRuns: 300 },
    );
    expect(code(await client.unary('QueryRoute', { topic: { name: 'plain' } }))).toBe('OK');
  });

  it('keeps a write-only %DLQ% topic unreadable (rocket.dlqPermission write)', async () => {
    const legacy = await startRocket({ rocket: { topics: { jobs: 'NORMAL' }, dlqPermission: 'write', groups: { once: { retry: { maxAttempts: 1 } } } } });
    const raw = rawRocketClient(legacy.endpoints);
    expect(code(await raw.unary('SendMessage', { messages: [message({ topic: { name: 'jobs' } })] }))).toBe('OK');
    const receive = (topic: string) => raw.stream('ReceiveMessage', { group: { name: 'once' }, messageQueue: { topic: { name: topic } }, batchSize: 1, invisibleDuration: { seconds: 1 }, longPollingTimeout: { seconds: 1 } });
    expect((await receive('jobs')).some((r) => r.message)).toBe(true);
    await new Promise((r) => setTimeout(r, 1300));
    expect((await receive('jobs')).some((r) => r.message)).toBe(false);
    const route = await raw.unary('QueryRoute', { topic: { name: '%DLQ%once' } });
    expect((route.messageQueues as Array<{ permission: string }>).map((q) => q.permission)).toEqual(['WRITE']);
    expect(code((await receive('%DLQ%once')).at(-1)!)).toBe('FORBIDDEN');
    raw.close();
    await legacy.stop();
  });
});

