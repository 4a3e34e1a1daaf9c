import http from 'node:http';
import net from 'node:net';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.ts';
import { eventually } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { wharfCli } from './wharf-cli.ts';

const ALL = { configure: '.*', write: '.*', read: '.*' };
const USERS = [
  { name: 'ops', password: 's3cret:x', tags: ['administrator'], permissions: { '/': ALL } },
  { name: 'app', password: 'app', tags: [], permissions: { '/': ALL } },
  { name: 'watcher', password: 'w', tags: ['monitoring'], permissions: { '/': ALL } },
];

interface QueueJson {
  name: string;
  vhost: string;
  messages: number;
  messages_ready: number;
  messages_unacknowledged: number;
  consumers: number;
}

/** A loopback server for the duration of `work`: its port, then closed. */
async function withServer<T>(server: net.Server, work: (port: number) => Promise<T>): Promise<T> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await work((server.address() as net.AddressInfo).port);
  } finally {
    if (server instanceof http.Server) server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('wharf queues and the admin CLI\'s errors against a broker process', () => {
  const dir = tempDir();
  let broker: BrokerProcess;
  let server: string;
  const as = (user: string, password: string) => ['--server', server, '--user', user, '--password', password];
  beforeAll(async () => {
    broker = await startBrokerProcess(dir.path, ['--amqp-users', JSON.stringify(USERS)]);
    server = `http://127.0.0.1:${broker.ports.http}`;
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
    dir.remove();
  });

  it('queues list --json shows the depth of a queue amqplib declared, published to and holds a delivery of', async () => {
    const connection = await amqp.connect(`amqp://ops:${encodeURIComponent('s3cret:x')}@127.0.0.1:${broker.ports.amqp}`);
    const channel = await connection.createChannel();
    await channel.assertQueue('work', { durable: true });
    for (let i = 0; i < 3; i++) channel.sendToQueue('work', Buffer.from(`job ${i}`), { persistent: true });
    await channel.prefetch(1);
    let delivered = 0;
    await channel.consume('work', () => void delivered++);
    await eventually(() => delivered === 1, 10_000, 'one delivery');

    const run = await wharfCli(['queues', 'list', '--json', ...as('ops', 's3cret:x')]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const queues = JSON.parse(run.stdout) as QueueJson[];
    expect(queues.find((q) => q.name === 'work')).toMatchObject({ vhost: '/', messages: 3, messages_ready: 2, messages_unacknowledged: 1, consumers: 1 });
    const table = await wharfCli(['queues', 'list', '--vhost', '/', ...as('ops', 's3cret:x')]);
    expect(table.stdout).toMatch(/^VHOST +QUEUE +FEATURES +STATE +READY +UNACKED +MESSAGES +CONSUMERS$/m);
    expect(table.stdout).toMatch(/^\/ +work +D +running +2 +1 +3 +1$/m);
    await connection.close();
  }, 60_000);

  it('refused credentials exit 4, unknown objects 5, refusals 1, bad usage 2, each with one line on stderr', async () => {
    const ops = as('ops', 's3cret:x');
    const cases: Array<[string[], { code: number; stderr: unknown }]> = [
      [['topics', 'list', ...as('ops', 'wrong')], { code: 4, stderr: `wharf: ${server} refused user "ops": Login failed (check --user and --password)\n` }],
      // The default user, guest, is not among this broker's users.
      [['queues', 'list', '--server', server], { code: 4, stderr: `wharf: ${server} refused user "guest": Login failed (check --user and --password)\n` }],
      [['groups', 'list', ...as('app', 'app')], { code: 4, stderr: `wharf: ${server} refused user "app": Not management user\n` }],
      [['topics', 'create', 'x', ...as('watcher', 'w')], { code: 4, stderr: `wharf: ${server} refused user "watcher": Not administrator user\n` }],
      [['topics', 'describe', 'nope', ...ops], { code: 5, stderr: 'wharf: Kafka topic nope not found\n' }],
      [['queues', 'list', '--vhost', 'nope', ...ops], { code: 5, stderr: 'wharf: vhost nope not found\n' }],
      [['topics', 'create', 'bad name', ...ops], { code: 1, stderr: expect.stringMatching(/^wharf: Kafka topic bad name: topic name "bad name" is not valid.*\(HTTP 400\)\n$/) }],
      [['topics', 'describe', '--server', server], { code: 2, stderr: 'wharf: wharf topics describe needs <topic>\n' }],
      [['topics', 'list', '--partitions', '3'], { code: 2, stderr: 'wharf: unknown option --partitions (wharf topics list --help)\n' }],
      [['topics', 'create', 'x', '--type', 'FIFO'], { code: 2, stderr: 'wharf: --type applies to RocketMQ only (--protocol rocketmq)\n' }],
    ];
    const runs = await Promise.all(cases.map(([args]) => wharfCli(args)));
    runs.forEach((run, i) => expect(run, cases[i]![0].join(' ')).toEqual({ stdout: '', ...cases[i]![1] }));
  }, 120_000);

  it('--help shows a command\'s usage, options and exit codes', async () => {
    const help = await wharfCli(['groups', 'describe', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: wharf groups describe <group> \[options\]$/m);
    expect(help.stdout).toMatch(/^ +--protocol kafka\|rocketmq +which protocol's view/m);
    expect(help.stdout).toMatch(/^ +--server URL +the broker's admin HTTP server/m);
    expect(help.stdout).toMatch(/^exit codes: 0 done, 1 refused by the server, 2 bad usage, 3 server unreachable, 4 not authorized \(401\), 5 not found \(404\)$/m);
  });

  it('a server that is down, silent or not the admin API exits 3', async () => {
    const closed = await withServer(net.createServer(), async (port) => port);
    expect(await wharfCli(['topics', 'list', '--server', `http://127.0.0.1:${closed}`])).toMatchObject({ code: 3, stderr: `wharf: cannot reach http://127.0.0.1:${closed}: connection refused (is the broker running, with --http-port?)\n` });

    const silent = await withServer(net.createServer((socket) => socket.resume()), (port) => wharfCli(['topics', 'list', '--server', `http://127.0.0.1:${port}`, '--timeout-ms', '300']));
    expect(silent).toMatchObject({ code: 3, stderr: expect.stringMatching(/^wharf: no answer from http:\/\/127\.0\.0\.1:\d+ within 300 ms\n$/) });

    const page = http.createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>'));
    const other = await withServer(page, (port) => wharfCli(['queues', 'list', '--server', `http://127.0.0.1:${port}`]));
    expect(other).toMatchObject({ code: 3, stderr: expect.stringMatching(/answered 200 with something other than JSON: is it Wharf's admin HTTP port\?\n$/) });
  }, 60_000);
});
