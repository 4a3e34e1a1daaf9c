import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeN, startAmqp, text, type AmqpTestBroker } from '../helpers/amqp.ts';
import { hasProgram, runProgram } from '../helpers/programs.ts';

/** pika (Debian python3-pika) and rabbitmq-c's amqp-tools, installed by .ci/run. */
let broker: AmqpTestBroker;
beforeAll(async () => {
  broker = await startAmqp();
});
afterAll(() => broker.stop());

const run = (command: string, args: string[]): Promise<string> => runProgram(command, args, { timeoutMs: 20_000 });

describe('other AMQP clients against Wharf', () => {
  it.skipIf(!hasProgram('pika', 'the pika test'))('pika 1.2 connects, declares, publishes with confirms and consumes', async () => {
    const out = await run('/usr/bin/python3', [
      '-c',
      `
import pika
params = pika.ConnectionParameters(host='127.0.0.1', port=${broker.port}, credentials=pika.PlainCredentials('guest', 'guest'))
conn = pika.BlockingConnection(params)
ch = conn.channel()
ch.confirm_delivery()
ch.queue_declare(queue='pika-q', durable=True)
for i in range(5):
    ch.basic_publish(exchange='', routing_key='pika-q', body=('m%d' % i).encode(), properties=pika.BasicProperties(delivery_mode=2), mandatory=True)
try:
    ch.basic_publish(exchange='amq.direct', routing_key='nowhere', body=b'x', mandatory=True)
    print('unroutable accepted')
except pika.exceptions.UnroutableError:
    print('unroutable returned')
got = []
for method, props, body in ch.consume('pika-q', inactivity_timeout=2):
    if method is None: break
    got.append(body.decode())
    ch.basic_ack(method.delivery_tag)
    if len(got) == 5: break
ch.cancel()
conn.close()
print(','.join(got))
`,
    ]);
    expect(out.trim().split('\n')).toEqual(['unroutable returned', 'm0,m1,m2,m3,m4']);
  });

  it.skipIf(!hasProgram('amqp-tools', 'the rabbitmq-c test'))('rabbitmq-c amqp-tools declare, publish and consume', async () => {
    const server = ['--server', '127.0.0.1', '--port', String(broker.port)];
    expect((await run('amqp-declare-queue', [...server, '-q', 'tools-q', '-d'])).trim()).toBe('tools-q');
    await run('amqp-publish', [...server, '-r', 'tools-q', '-b', 'from-rabbitmq-c', '-p']);
    const conn = await broker.connect();
    const ch = await conn.createConfirmChannel();
    expect((await consumeN(ch, 'tools-q', 1)).map(text)).toEqual(['from-rabbitmq-c']);
    ch.sendToQueue('tools-q', Buffer.from('to-rabbitmq-c'));
    await ch.waitForConfirms();
    await conn.close();
    expect(await run('amqp-consume', [...server, '-q', 'tools-q', '-c', '1', 'cat'])).toBe('to-rabbitmq-c');
  });
});
