import fs from 'node:fs';
import path from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rabbit } from '../../plugins/rabbit/index.ts';
import { startAdmin, type AdminTestBroker } from '../helpers/admin.ts';
import { hasProgram, runProgram } from '../helpers/programs.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** Debian's rabbitmqadmin (RabbitMQ 3.10.8's, a Python client of the management API) against Wharf. */
const present = hasProgram('rabbitmqadmin', 'the rabbitmqadmin tests');
const dir = tempDir('wharf-rabbitmqadmin-');
let broker: AdminTestBroker;

beforeAll(async () => {
  if (present) broker = await startAdmin([rabbit()]);
});

afterAll(async () => {
  await broker?.stop();
  dir.remove();
});

function admin(target: AdminTestBroker, ...args: string[]): Promise<string> {
  return runProgram('rabbitmqadmin', ['-H', '127.0.0.1', '-P', String(new URL(target.base).port), '-u', 'guest', '-p', 'guest', ...args]);
}

const json = async (target: AdminTestBroker, ...args: string[]): Promise<any> => JSON.parse(await admin(target, '-f', 'raw_json', ...args));

describe.skipIf(!present)('rabbitmqadmin against Wharf', () => {
  it('declares a queue, exchange and binding, publishes, lists, gets (requeueing), and an AMQP client sees the same', async () => {
    await admin(broker, 'declare', 'queue', 'name=orders', 'durable=true', 'arguments={"x-max-length":100}');
    await admin(broker, 'declare', 'exchange', 'name=shop', 'type=topic');
    await admin(broker, 'declare', 'binding', 'source=shop', 'destination=orders', 'routing_key=order.#');
    await admin(broker, 'publish', 'exchange=shop', 'routing_key=order.created', 'payload=first', 'properties={"content_type":"text/plain","headers":{"n":1}}');
    await admin(broker, 'publish', 'routing_key=orders', 'payload=second');

    const queues = await json(broker, 'list', 'queues');
    const orders = queues.find((q: any) => q.name === 'orders');
    expect(orders).toMatchObject({ vhost: '/', durable: true, auto_delete: false, arguments: { 'x-max-length': 100 }, messages: 2, messages_ready: 2, messages_unacknowledged: 0 });
    expect(await admin(broker, 'list', 'queues', 'name', 'messages')).toMatch(/\| orders \| 2 +\|/);
    const bindings = await json(broker, 'list', 'bindings');
    expect(bindings).toContainEqual(expect.objectContaining({ source: 'shop', destination: 'orders', destination_type: 'queue', routing_key: 'order.#' }));
    expect((await json(broker, 'list', 'exchanges')).map((x: any) => x.name)).toContain('shop');

    const got = await json(broker, 'get', 'queue=orders', 'count=2');
    expect(got).toEqual([
      { payload_bytes: 5, redelivered: false, exchange: 'shop', routing_key: 'order.created', message_count: 1, properties: { content_type: 'text/plain', headers: { n: 1 } }, payload: 'first', payload_encoding: 'string' },
      { payload_bytes: 6, redelivered: false, exchange: '', routing_key: 'orders', message_count: 0, properties: [], payload: 'second', payload_encoding: 'string' },
    ]);
    // ackmode ack_requeue_true (rabbitmqadmin's default) put them back, redelivered.
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port('amqp')}`);
    const channel = await connection.createChannel();
    const first = await channel.get('orders', { noAck: true });
    expect(first && first.content.toString()).toBe('first');
    expect(first && first.fields.redelivered).toBe(true);
    expect(first && first.properties.headers).toEqual({ n: 1 });
    await channel.close();
    await connection.close();

    await admin(broker, 'purge', 'queue', 'name=orders');
    expect((await json(broker, 'list', 'queues')).find((q: any) => q.name === 'orders').messages).toBe(0);
  });

  it('shows the overview and lists users, vhosts, permissions, connections, channels and consumers', async () => {
    expect(await admin(broker, 'show', 'overview')).toMatch(/3\.10\.8/);
    expect(await json(broker, 'list', 'users')).toEqual([expect.objectContaining({ name: 'guest', tags: ['administrator'], hashing_algorithm: 'rabbit_password_hashing_sha256' })]);
    expect((await json(broker, 'list', 'vhosts')).map((v: any) => v.name)).toEqual(['/']);
    expect(await json(broker, 'list', 'permissions')).toEqual([{ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' }]);
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port('amqp')}`, { clientProperties: { connection_name: 'listed' } });
    const channel = await connection.createChannel();
    await channel.assertQueue('consumed', { durable: false });
    await channel.prefetch(7);
    await channel.consume('consumed', () => undefined, { consumerTag: 'listed-consumer' });
    const connections = await json(broker, 'list', 'connections');
    expect(connections).toContainEqual(expect.objectContaining({ user: 'guest', vhost: '/', protocol: 'AMQP 0-9-1', user_provided_name: 'listed', channels: 1, state: 'running' }));
    const name = connections.find((c: any) => c.user_provided_name === 'listed').name;
    expect(name).toMatch(/^127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/);
    expect(await json(broker, 'list', 'channels')).toContainEqual(expect.objectContaining({ name: `${name} (1)`, consumer_count: 1, prefetch_count: 7 }));
    expect(await json(broker, 'list', 'consumers')).toContainEqual(expect.objectContaining({ consumer_tag: 'listed-consumer', queue: { name: 'consumed', vhost: '/' }, ack_required: true, prefetch_count: 7 }));
    const closed = new Promise((resolve) => connection.once('close', resolve));
    await admin(broker, 'close', 'connection', `name=${name}`);
    expect(String(await closed)).toMatch(/CONNECTION_FORCED/);
  });

  it('exports definitions and imports them into another broker, which then has the same queues, exchanges and bindings', async () => {
    await admin(broker, 'declare', 'queue', 'name=exported', 'durable=true', 'arguments={"x-message-ttl":60000}');
    await admin(broker, 'declare', 'exchange', 'name=exported-x', 'type=direct', 'durable=true');
    await admin(broker, 'declare', 'binding', 'source=exported-x', 'destination=exported', 'routing_key=k', 'arguments={"a":"b"}');
    const file = path.join(dir.path, 'definitions.json');
    await admin(broker, 'export', file);
    const exported = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(exported).toMatchObject({ rabbit_version: '3.10.8', vhosts: [{ name: '/' }], users: [expect.objectContaining({ name: 'guest' })] });
    expect(exported.queues).toContainEqual({ name: 'exported', vhost: '/', durable: true, auto_delete: false, arguments: { 'x-message-ttl': 60000 } });
    expect(exported.bindings).toContainEqual({ source: 'exported-x', vhost: '/', destination: 'exported', destination_type: 'queue', routing_key: 'k', arguments: { a: 'b' } });

    const other = await startAdmin([rabbit()]);
    try {
      await admin(other, 'import', file);
      const queues = await json(other, 'list', 'queues');
      expect(queues.map((q: any) => q.name).sort()).toEqual(exported.queues.map((q: any) => q.name).sort());
      expect(queues.find((q: any) => q.name === 'exported').arguments).toEqual({ 'x-message-ttl': 60000 });
      const bindings = (await json(other, 'list', 'bindings')).filter((b: any) => b.source !== '');
      expect(bindings.map((b: any) => [b.source, b.destination, b.routing_key, b.arguments])).toEqual(
        expect.arrayContaining(exported.bindings.map((b: any) => [b.source, b.destination, b.routing_key, b.arguments])),
      );
      // Routing works as declared: a message to the imported exchange reaches the imported queue.
      const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${other.port('amqp')}`);
      const channel = await connection.createConfirmChannel();
      channel.publish('exported-x', 'k', Buffer.from('routed'));
      await channel.waitForConfirms();
      expect((await channel.get('exported', { noAck: true }) as amqp.GetMessage).content.toString()).toBe('routed');
      await connection.close();
      // Importing the same file twice changes nothing.
      await admin(other, 'import', file);
      expect((await json(other, 'list', 'queues')).length).toBe(queues.length);
    } finally {
      await other.stop();
    }
  });

  it('deletes a binding, an exchange and a queue', async () => {
    await admin(broker, 'declare', 'queue', 'name=doomed');
    await admin(broker, 'declare', 'exchange', 'name=doomed-x', 'type=fanout');
    await admin(broker, 'declare', 'binding', 'source=doomed-x', 'destination=doomed');
    const key = (await json(broker, 'list', 'bindings')).find((b: any) => b.source === 'doomed-x').properties_key;
    await admin(broker, 'delete', 'binding', 'source=doomed-x', 'destination_type=queue', 'destination=doomed', `properties_key=${key}`);
    expect((await json(broker, 'list', 'bindings')).some((b: any) => b.source === 'doomed-x')).toBe(false);
    await admin(broker, 'delete', 'exchange', 'name=doomed-x');
    await admin(broker, 'delete', 'queue', 'name=doomed');
    expect((await json(broker, 'list', 'queues')).some((q: any) => q.name === 'doomed')).toBe(false);
    await expect(admin(broker, 'delete', 'queue', 'name=doomed')).rejects.toThrow(/Not found/);
  });
});
