import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rabbitPasswordHash, TOKENS, type Security } from '../../core/index.ts';
import { permissionBindings, topicPermissionBindings } from '../../plugins/rabbit/auth.ts';
import { startAmqp, type AmqpTestBroker } from '../helpers/amqp.ts';
import { hasProgram, runPython } from '../helpers/programs.ts';
import { addAcls, addUser } from '../helpers/security.ts';

/**
 * AMQP users from the broker's security store: SCRAM-keyed users (`wharf users add`) and imported RabbitMQ
 * password hashes log in with PLAIN/AMQPLAIN; their permissions and topic permissions are ACL bindings,
 * refused with RabbitMQ's codes and texts. The `amqp.users` setting keeps working beside them.
 */
let broker: AmqpTestBroker;
beforeAll(async () => {
  broker = await startAmqp({
    amqp: {
      vhosts: ['/', 'shop'],
      users: [{ name: 'legacy', passwordHash: rabbitPasswordHash('legacy-secret'), permissions: { '/': { configure: '', write: '.*', read: '.*' } } }],
    },
  });
  await addUser(broker.broker, 'alice', 'alice-secret');
  // RabbitMQ's documented hash: salt 908DC60A, password test12.
  await broker.broker.get<Security>(TOKENS.Security).store.updateUser('imported', () => ({ name: 'imported', passwordHash: 'kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR' }));
  await addAcls(
    broker.broker,
    ...permissionBindings('alice', '/', { configure: '^alice\\.', write: '^(alice\\.|amq\\.topic$|amq\\.direct$)', read: '^(alice\\.|amq\\.topic$)' }),
    ...topicPermissionBindings('alice', '/', 'amq.topic', { write: '^orders\\.', read: '^orders\\.{username}\\.' }),
    ...permissionBindings('imported', '/', { configure: '', write: '', read: '' }),
  );
});
afterAll(() => broker.stop());

const channelError = (channel: amqp.Channel): Promise<{ code: number; message: string }> => new Promise((resolve) => channel.once('error', resolve));

describe('AMQP users from the security store', () => {
  it('a SCRAM-keyed user logs in with PLAIN and AMQPLAIN; its bindings grant and refuse as RabbitMQ permissions do', async () => {
    const conn = await broker.connect({ user: 'alice', password: 'alice-secret' });
    const ch = await conn.createChannel();
    await ch.assertQueue('alice.inbox');
    const refused = channelError(ch);
    await ch.assertQueue('bobs.inbox').catch(() => undefined);
    expect(await refused).toMatchObject({ code: 403, message: expect.stringContaining("ACCESS_REFUSED - access to queue 'bobs.inbox' in vhost '/' refused for user 'alice'") });
    await conn.close();

    const amqplain = await amqp.connect(`amqp://127.0.0.1:${broker.port}`, { credentials: amqp.credentials.amqplain('alice', 'alice-secret') });
    await amqplain.close();
    await expect(broker.connect({ user: 'alice', password: 'wrong' })).rejects.toThrow(/403 \(ACCESS-REFUSED\).*Login was refused using authentication mechanism PLAIN/);
    await expect(broker.connect({ user: 'alice', password: 'alice-secret', vhost: 'shop' })).rejects.toThrow(/got <ConnectionClose/);
  });

  it.skipIf(!hasProgram('pika', 'the pika password-hash test'))('pika logs in as users with RabbitMQ password hashes, from the store and from amqp.users', async () => {
    const out = await runPython(`
import pika
def login(user, password, vhost='/'):
    try:
        c = pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', ${broker.port}, vhost, pika.PlainCredentials(user, password)))
        c.close()
        return 'ok'
    except Exception as e:
        return 'refused: ' + str(e)
print(login('imported', 'test12'))
print(login('imported', 'test13'))
print(login('legacy', 'legacy-secret'))
print(login('legacy', 'legacy'))
print(login('alice', 'alice-secret', 'shop'))
`);
    expect(out.trim().split('\n')).toEqual([
      'ok',
      "refused: ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.'",
      'ok',
      "refused: ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.'",
      'refused: ConnectionClosedByBroker: (530) "NOT_ALLOWED - access to vhost \'shop\' refused for user \'alice\'"',
    ]);
  });
});

describe('topic permissions', () => {
  it('check the routing key of each publish to a topic exchange against the write pattern', async () => {
    const conn = await broker.connect({ user: 'alice', password: 'alice-secret' });
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('alice.orders');
    await ch.bindQueue('alice.orders', 'amq.topic', 'orders.alice.#');
    ch.publish('amq.topic', 'orders.alice.new', Buffer.from('allowed'));
    await ch.waitForConfirms();
    // Not a topic exchange: topic permissions do not apply.
    ch.publish('amq.direct', 'payments', Buffer.from('direct'));
    await ch.waitForConfirms();
    const refused = channelError(ch);
    ch.publish('amq.topic', 'payments.alice', Buffer.from('denied'));
    expect(await refused).toMatchObject({
      code: 403,
      message: expect.stringContaining("ACCESS_REFUSED - access to topic 'payments.alice' in exchange 'amq.topic' in vhost '/' refused for user 'alice'"),
    });
    const reader = await conn.createChannel();
    expect((await reader.get('alice.orders', { noAck: true }) || undefined)?.content.toString()).toBe('allowed');
    await conn.close();
  });

  it('check the binding key of a bind to a topic exchange against the read pattern ({username} expanded)', async () => {
    const conn = await broker.connect({ user: 'alice', password: 'alice-secret' });
    const ch = await conn.createChannel();
    await ch.assertQueue('alice.audit');
    await ch.bindQueue('alice.audit', 'amq.topic', 'orders.alice.*');
    const refused = channelError(ch);
    await ch.bindQueue('alice.audit', 'amq.topic', 'orders.bob.*').catch(() => undefined);
    expect(await refused).toMatchObject({
      code: 403,
      message: expect.stringContaining("ACCESS_REFUSED - access to topic 'orders.bob.*' in exchange 'amq.topic' in vhost '/' refused for user 'alice'"),
    });
    await conn.close();
  });

  it.skipIf(!hasProgram('pika', 'the pika topic-permission test'))('pika: a publish outside the pattern closes the channel with 403', async () => {
    const out = await runPython(`
import pika
from pika.exceptions import ChannelClosedByBroker
c = pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', ${broker.port}, '/', pika.PlainCredentials('alice', 'alice-secret')))
ch = c.channel()
ch.confirm_delivery()
ch.basic_publish('amq.topic', 'orders.pika', b'ok')
try:
    ch.basic_publish('amq.topic', 'refunds.pika', b'no')
    print('published')
except ChannelClosedByBroker as e:
    print(e.reply_code, e.reply_text)
c.close()
`);
    expect(out.trim()).toBe("403 ACCESS_REFUSED - access to topic 'refunds.pika' in exchange 'amq.topic' in vhost '/' refused for user 'alice'");
  });
});
