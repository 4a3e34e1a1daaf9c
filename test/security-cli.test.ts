import path from 'node:path';
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { createBroker, type Broker } from '../core/index.ts';
import { kafka } from '../plugins/kafka/index.ts';
import { rabbit } from '../plugins/rabbit/index.ts';
import { fsStorage } from '../plugins/storage-fs/index.ts';
import { hasProgram, runProgram } from './helpers/programs.ts';
import { addUser } from './helpers/security.ts';
import { runSecurityCommand } from '../bin/security-cli.ts';
import { tempDir } from './helpers/temp-dir.ts';

/**
 * `wharf users` and `wharf acls`: offline against a stopped broker's data directory, and online over a
 * running broker's Kafka port. Most commands run in-process (a CLI process takes seconds to boot under
 * tsx); `bin/wharf.js` itself runs once per mode.
 */
const WHARF = path.resolve(import.meta.dirname, '../bin/wharf.js');
const wharfProcess = (...args: string[]) => runProgram(process.execPath, [WHARF, ...args], { timeoutMs: 90_000 }).then((out) => out.trim());
const wharf = (command: string, ...args: string[]) => runSecurityCommand(command as 'users' | 'acls', args);

let broker: Broker | undefined;
const dirs: Array<{ remove(): void }> = [];
afterEach(async () => {
  await broker?.stop();
  broker = undefined;
  for (const dir of dirs.splice(0)) dir.remove();
});

async function startBroker(dataDir: string): Promise<{ kafkaPort: number; amqpPort: number }> {
  broker = await createBroker({
    plugins: [fsStorage(), kafka(), rabbit()],
    config: { logLevel: 'error', host: '127.0.0.1', dataDir, allowAnonymous: 'false', kafka: { port: 'auto' }, amqp: { port: 'auto' }, topics: { flush: 'never' } },
  });
  await broker.start();
  const port = (protocol: string) => broker!.listeners().find((l) => l.protocol === protocol)!.port;
  return { kafkaPort: port('kafka'), amqpPort: port('amqp') };
}

const kafkaClient = (port: number, username: string, password: string) =>
  new Kafka({ clientId: 'cli-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 }, sasl: { mechanism: 'scram-sha-512', username, password } });

describe('wharf users and wharf acls', () => {
  it('offline: add users and Kafka and AMQP permissions to a data directory; the broker started on it enforces them', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const d = ['--data-dir', dir.path];
    expect(await wharf('users', 'add', 'alice', '--password', 'alice-secret', ...d)).toBe('user alice added');
    expect(await wharf('users', 'add', 'old', '--password-hash', 'kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR', ...d)).toBe('user old added');
    expect(await wharf('acls', 'add', '--principal', 'User:alice', '--operation', 'write,read,create', '--topic', 'orders', '--prefixed', ...d)).toBe(
      ['write', 'read', 'create'].map((op) => `allow User:alice ${op} topic orders (prefixed) from *`).join('\n'),
    );
    await wharf('acls', 'add', '--principal', 'User:alice', '--vhost', '/', '--configure', '^alice\\.', '--write', '^alice\\.', '--read', '^alice\\.', ...d);
    await wharf('acls', 'add', '--principal', 'User:old', '--vhost', '/', '--configure', '', '--write', '', '--read', '', ...d);
    expect(await wharfProcess('users', 'list', ...d)).toBe('alice\tSCRAM-SHA-256,SCRAM-SHA-512\nold\trabbit_password_hashing_sha256');
    expect((await wharf('acls', 'list', '--principal', 'User:alice', ...d)).split('\n')).toHaveLength(3 + 7);

    const { kafkaPort, amqpPort } = await startBroker(dir.path);
    const producer = kafkaClient(kafkaPort, 'alice', 'alice-secret').producer();
    await producer.connect();
    await producer.send({ topic: 'orders-cli', messages: [{ value: 'v' }] });
    await expect(producer.send({ topic: 'payments', messages: [{ value: 'v' }] })).rejects.toThrow(/authoriz/i);
    await producer.disconnect();
    const conn = await amqp.connect({ hostname: '127.0.0.1', port: amqpPort, username: 'alice', password: 'alice-secret' });
    const ch = await conn.createChannel();
    await ch.assertQueue('alice.cli');
    await conn.close();
    await (await amqp.connect({ hostname: '127.0.0.1', port: amqpPort, username: 'old', password: 'test12' })).close();

    await expect(wharf('users', 'list', ...d)).rejects.toThrow(/lock|running|in use/i);
    await broker!.stop();
    broker = undefined;
    expect(await wharf('acls', 'remove', '--principal', 'User:alice', '--vhost', '/', ...d)).toContain('removed allow User:alice read vhost / (literal) from *');
    expect(await wharf('acls', 'list', '--principal', 'User:alice', ...d)).toBe(['write', 'read', 'create'].map((op) => `allow User:alice ${op} topic orders (prefixed) from *`).join('\n'));
    expect(await wharf('users', 'delete', 'old', ...d)).toBe('user old deleted');
    await expect(wharf('users', 'delete', 'old', ...d)).rejects.toThrow(/no user old/);
  }, 120_000);

  it.skipIf(!hasProgram('kcat', 'the online CLI test'))('online: users and ACLs through a running broker\'s Kafka port, logged in as a super user; kcat sees each change', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const { kafkaPort } = await startBroker(dir.path);
    await addUser(broker!, 'admin', 'admin-secret', { superUser: true });
    const online = ['--bootstrap-server', `127.0.0.1:${kafkaPort}`, '--admin-user', 'admin', '--admin-password', 'admin-secret'];
    const kcat = (user: string, password: string, args: string[], input?: string) =>
      runProgram('kcat', ['-b', `127.0.0.1:${kafkaPort}`, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=SCRAM-SHA-256', '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`, '-m', '3', ...args], { input });

    expect(await wharf('users', 'add', 'bob', '--password', 'bob-secret', ...online)).toBe('user bob added');
    expect(await wharfProcess('users', 'list', ...online)).toBe('admin\tSCRAM-SHA-256,SCRAM-SHA-512\nbob\tSCRAM-SHA-256,SCRAM-SHA-512');
    await expect(kcat('bob', 'bob-secret', ['-P', '-t', 'bobs'], 'x\n')).rejects.toThrow(/authorization failed/i);
    await wharf('acls', 'add', '--principal', 'User:bob', '--operation', 'write,create', '--topic', 'bobs', ...online);
    expect(await wharf('acls', 'list', ...online)).toBe('allow User:bob write topic bobs (literal) from *\nallow User:bob create topic bobs (literal) from *');
    await kcat('bob', 'bob-secret', ['-P', '-t', 'bobs'], 'x\n');
    expect(await wharf('acls', 'remove', '--principal', 'User:bob', ...online)).toContain('removed allow User:bob write topic bobs (literal) from *');
    await expect(wharf('users', 'add', 'carol', '--password', 'c', '--super-user', ...online)).rejects.toThrow(/use --data-dir/);
    await expect(wharf('acls', 'add', '--principal', 'User:bob', '--vhost', '/', '--read', '.*', ...online)).rejects.toThrow(/use --data-dir/);
    expect(await wharf('users', 'delete', 'bob', ...online)).toBe('user bob deleted');
    await expect(kcat('bob', 'bob-secret', ['-L'])).rejects.toThrow(/Authentication failed/);
    await expect(wharf('users', 'list', '--bootstrap-server', `127.0.0.1:${kafkaPort}`, '--admin-user', 'admin', '--admin-password', 'wrong')).rejects.toThrow(/Authentication failed/);
  }, 120_000);
});
