import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAmqp, type AmqpTestBroker } from '../helpers/amqp.ts';
import { hasProgram, runProgram } from '../helpers/programs.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** Request/reply with real clients: pika over direct reply-to, and a Celery worker returning results over rpc://. */
let broker: AmqpTestBroker;
beforeAll(async () => {
  broker = await startAmqp();
});
afterAll(() => broker.stop());

describe('RPC clients against Wharf', () => {
  it.skipIf(!hasProgram('pika', 'the pika direct reply-to test'))('pika calls an amqplib server over direct reply-to', async () => {
    const connection = await broker.connect();
    const server = await connection.createChannel();
    await server.assertQueue('rpc-requests', { durable: false });
    await server.consume(
      'rpc-requests',
      (request) => {
        if (!request) return;
        const reply = Buffer.from(request.content.toString().toUpperCase());
        server.publish('', request.properties.replyTo as string, reply, { correlationId: request.properties.correlationId });
      },
      { noAck: true },
    );
    const out = await runProgram(
      '/usr/bin/python3',
      [
        '-c',
        `
import pika
conn = pika.BlockingConnection(pika.ConnectionParameters(host='127.0.0.1', port=${broker.port}, credentials=pika.PlainCredentials('guest', 'guest')))
ch = conn.channel()
replies = {}
def on_reply(channel, method, props, body):
    replies[props.correlation_id] = (method.routing_key, body.decode())
ch.basic_consume('amq.rabbitmq.reply-to', on_reply, auto_ack=True)
for i in range(3):
    ch.basic_publish('', 'rpc-requests', ('call %d' % i).encode(), pika.BasicProperties(reply_to='amq.rabbitmq.reply-to', correlation_id=str(i)))
while len(replies) < 3:
    conn.process_data_events(time_limit=1)
for i in range(3):
    key, body = replies[str(i)]
    print(body, key.startswith('amq.rabbitmq.reply-to.'))
conn.close()
`,
      ],
      { timeoutMs: 20_000 },
    );
    await connection.close();
    expect(out.trim().split('\n')).toEqual(['CALL 0 True', 'CALL 1 True', 'CALL 2 True']);
  });

  it.skipIf(!hasProgram('celery', 'the Celery rpc:// test'))('a Celery worker runs tasks whose results come back over rpc://', async () => {
    const dir = tempDir('wharf-celery-');
    fs.writeFileSync(
      path.join(dir.path, 'tasks.py'),
      `
import os
from celery import Celery
app = Celery('tasks', broker=os.environ['BROKER_URL'], backend='rpc://')
app.conf.task_default_queue = 'wharf-celery'
app.conf.broker_connection_retry_on_startup = True

@app.task
def add(x, y):
    return x + y

@app.task
def fail():
    raise ValueError('as planned')
`,
    );
    const env = { ...process.env, BROKER_URL: `amqp://guest:guest@127.0.0.1:${broker.port}//`, PYTHONPATH: dir.path };
    const worker = spawn('/usr/bin/python3', ['-m', 'celery', '-A', 'tasks', 'worker', '--pool=solo', '--without-mingle', '--without-gossip', '--without-heartbeat', '--loglevel=WARNING'], { cwd: dir.path, env, stdio: 'ignore' });
    try {
      const out = await runProgram(
        '/usr/bin/python3',
        [
          '-c',
          `
from tasks import add, fail
results = [add.delay(i, 10 * i) for i in range(5)]
print(' '.join(str(r.get(timeout=30)) for r in results))
try:
    fail.delay().get(timeout=30)
except ValueError as e:
    print('raised', e)
`,
        ],
        { env, cwd: dir.path, timeoutMs: 60_000 },
      );
      expect(out.trim().split('\n')).toEqual(['0 11 22 33 44', 'raised as planned']);
    } finally {
      worker.kill('SIGKILL');
      dir.remove();
    }
  }, 90_000);
});
