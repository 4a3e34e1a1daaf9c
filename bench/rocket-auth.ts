/**
 * RocketMQ ACL 2.0: what admitting one gRPC call costs the broker (RocketAccess.check on a SendMessage):
 * unsigned with no ACLs (the loopback default), signed with the user's ACLs in place (a client repeats
 * its header within a second: verified once, then remembered), and signed with a new date header every
 * call (an HMAC-SHA1 each time).
 * BENCH_ROCKET_AUTH_CALLS (200,000).
 */
import { Metadata } from '@grpc/grpc-js';
import { createHmac } from 'node:crypto';
import { createBroker, TOKENS, type Security } from '../core/index.ts';
import { RocketAccess } from '../plugins/rocket/auth/rocket-access.ts';
import { memoryStorage } from '../plugins/storage-memory/index.ts';
import { fmt, printTable } from './harness.ts';

const CALLS = Number(process.env.BENCH_ROCKET_AUTH_CALLS ?? 200_000);

const broker = await createBroker({ plugins: [memoryStorage()], config: { logLevel: 'silent', host: '127.0.0.1', topics: { flush: 'never' } } });
await broker.start();
const security = broker.get<Security>(TOKENS.Security);
const access = new RocketAccess(security);
const send = { messages: [{ topic: { name: 'orders' }, body: Buffer.alloc(1024) }] };

function metadata(dateTime?: string): Metadata {
  const m = new Metadata();
  m.set('x-mq-client-id', 'bench');
  if (dateTime) {
    const signature = createHmac('sha1', 'alice-secret').update(dateTime).digest('hex').toUpperCase();
    m.set('authorization', `MQv2-HMAC-SHA1 Credential=alice, SignedHeaders=x-mq-date-time, Signature=${signature}`);
    m.set('x-mq-date-time', dateTime);
  }
  return m;
}

/** Calls per second of `check` over `inputs`, used round-robin (each must be admitted). */
function rate(inputs: Metadata[]): number {
  for (let i = 0; i < 10_000; i++) access.check('SendMessage', inputs[i % inputs.length]!, '127.0.0.1:50000', send);
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) {
    if (access.check('SendMessage', inputs[i % inputs.length]!, '127.0.0.1:50000', send) !== undefined) throw new Error('refused');
  }
  return CALLS / (Number(process.hrtime.bigint() - start) / 1e9);
}

const anonymous = rate([metadata()]);
await security.store.updateUser('alice', () => ({ name: 'alice', secretKey: 'alice-secret' }));
await security.addAcls([
  { resourceType: 'topic', resourceName: 'orders', patternType: 'literal', principal: 'User:alice', host: '*', operation: 'write', permission: 'allow' },
  { resourceType: 'topic', resourceName: 'ord', patternType: 'prefixed', principal: 'User:*', host: '10.0.0.0/8', operation: 'write', permission: 'deny' },
]);
const signedRepeated = rate([metadata('20260101T000000Z')]);
// More distinct headers than the verification cache keeps, so none is found there when it comes round again.
const base = Date.UTC(2026, 0, 1);
const signedEveryCall = rate(Array.from({ length: 20_000 }, (_, i) => metadata(new Date(base + i * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, ''))));
await broker.stop();
const hmacStart = process.hrtime.bigint();
for (let i = 0; i < CALLS; i++) createHmac('sha1', 'alice-secret').update('20260101T000000Z').digest();
const hmacRate = CALLS / (Number(process.hrtime.bigint() - hmacStart) / 1e9);

printTable(`RocketMQ ACL 2.0: admitting a SendMessage call (RocketAccess.check), ${fmt(CALLS)} calls each, one process`, ['case', 'calls/s', 'µs/call'], [
  ['unsigned, no ACLs (loopback default)', fmt(anonymous), (1e6 / anonymous).toFixed(2)],
  ['signed, the same header again, ACLs present', fmt(signedRepeated), (1e6 / signedRepeated).toFixed(2)],
  ['signed, a new date header every call', fmt(signedEveryCall), (1e6 / signedEveryCall).toFixed(2)],
  ['reference: one HMAC-SHA1 of a date header', fmt(hmacRate), (1e6 / hmacRate).toFixed(2)],
]);
