import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroker, type Broker } from '../../core/index.ts';
import { adminConsole } from '../../plugins/admin-console/index.ts';
import { adminHttp } from '../../plugins/admin-http/index.ts';
import { kafka } from '../../plugins/kafka/index.ts';
import { rabbit } from '../../plugins/rabbit/index.ts';
import { rocket } from '../../plugins/rocket/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';
import { hasProgram } from '../helpers/programs.ts';
import { Producer, quietLogger } from '../helpers/rocket.ts';
import { runSecurityCommand } from '../../bin/security-cli.ts';

const ARTIFACTS = path.join(import.meta.dirname, '..', '..', 'test-artifacts', 'console');
const GUEST = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

/**
 * The web console in headless Chromium against a broker that kafkajs and amqplib just used: every page
 * loads without console errors and shows what the clients produced; browsing consumes nothing;
 * definitions export and import. Screenshots land in test-artifacts/console/.
 */
describe.skipIf(!hasProgram('chromium', 'the web console tests'))('web console', () => {
  let broker: Broker;
  let base: string;
  let browser: Browser;
  let page: Page;
  let client: Kafka;
  let amqpConnection: amqp.ChannelModel;
  const problems: string[] = [];

  const text = (selector = 'main') => page.$eval(selector, (el) => el.innerText as string);
  /** The rendered text of every element the selector matches. */
  const texts = (selector: string) => page.$$eval(selector, (els) => els.map((el) => el.innerText as string));
  const open = async (hash: string, ready: string) => {
    await page.goto(`${base}${hash}`);
    await page.waitForSelector(ready);
  };
  const rowOf = (name: string) => page.$$eval('main tbody tr', (rows, wanted) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.innerText.trim())).find((cells) => cells[0] === wanted), name);
  const api = async <T>(p: string) => (await (await fetch(new URL(p, base), { headers: { authorization: GUEST } })).json()) as T;
  const shoot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    broker = await createBroker({
      plugins: [memoryStorage(), kafka(), rabbit(), rocket(), adminHttp(), adminConsole()],
      config: {
        logLevel: 'error',
        host: '127.0.0.1',
        kafka: { port: 'auto' },
        amqp: { port: 'auto' },
        rocket: { port: 'auto' },
        http: { port: 'auto' },
        groups: { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 1000 },
        topics: { flush: 'never' },
      },
    });
    await broker.start();
    const port = (protocol: string) => broker.listeners().find((l) => l.protocol === protocol)!.port;
    base = `http://127.0.0.1:${port('http')}/`;

    // Kafka: 4 messages over 2 partitions, all consumed by group console-billing, then 3 more on partition 0 (lag 3 there, 0 on 1).
    client = new Kafka({ clientId: 'console-test', brokers: [`127.0.0.1:${port('kafka')}`], logLevel: logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'console-orders', numPartitions: 2 }] });
    await admin.disconnect();
    const producer = client.producer();
    await producer.connect();
    const order = (i: number, partition: number) => ({ partition, key: `order-${i}`, value: JSON.stringify({ order: i, item: 'anchor chain' }), headers: { origin: 'console-test' } });
    await producer.send({ topic: 'console-orders', messages: [order(0, 0), order(1, 1), order(2, 0), order(3, 1)] });
    const consumer = client.consumer({ groupId: 'console-billing', sessionTimeout: 6000 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'console-orders', fromBeginning: true });
    let seen = 0;
    await new Promise<void>((resolve) => void consumer.run({ eachMessage: async () => void (++seen === 4 && resolve()) }));
    await consumer.disconnect();
    await producer.send({ topic: 'console-orders', messages: [order(4, 0), order(5, 0), order(6, 0)] });
    await producer.disconnect();

    // AMQP: 3 messages on console-invoices; the connection stays open for the connections page.
    amqpConnection = await amqp.connect({ protocol: 'amqp', hostname: '127.0.0.1', port: port('amqp'), username: 'guest', password: 'guest' }, { clientProperties: { connection_name: 'console-invoicer' } });
    const channel = await amqpConnection.createConfirmChannel();
    await channel.assertQueue('console-invoices');
    channel.sendToQueue('console-invoices', Buffer.from('invoice #1 for ACME'), { contentType: 'text/plain', headers: { customer: 'ACME' } });
    channel.sendToQueue('console-invoices', Buffer.from('invoice #2'));
    channel.sendToQueue('console-invoices', Buffer.from([0xff, 0x00, 0x01]));
    await channel.waitForConfirms();

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const puppeteer = (await import('puppeteer-core')).default;
    browser = await puppeteer.launch({ executablePath: execFileSync('sh', ['-c', 'command -v chromium']).toString().trim(), headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.on('console', (m) => void (m.type() === 'error' || m.type() === 'warn' ? problems.push(`console ${m.type()}: ${m.text()} (${m.location().url ?? ''})`) : undefined));
    page.on('pageerror', (err) => void problems.push(`page error: ${(err as Error).message}`));
    page.on('requestfailed', (r) => void (r.failure()?.errorText === 'net::ERR_ABORTED' ? undefined : problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`)));
    page.on('response', (r) => void (r.status() >= 400 ? problems.push(`HTTP ${r.status()}: ${r.url()}`) : undefined));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await amqpConnection?.close().catch(() => undefined);
    await broker?.stop();
  });

  it('refuses a wrong password, then signs in to an overview with live message rates', async () => {
    await page.goto(base);
    await page.waitForSelector('form.signin');
    await page.type('input[name=user]', 'guest');
    await page.type('input[name=password]', 'wrong');
    await page.click('form.signin button[type=submit]');
    await page.waitForFunction("document.querySelector('form.signin [role=alert]')?.textContent.startsWith('Login failed')");
    // The refusal itself is the one expected failure: Chromium logs the 401.
    expect(problems.every((p) => p.includes('401'))).toBe(true);
    problems.length = 0;

    await page.$eval('input[name=password]', (el) => void (el.value = ''));
    await page.type('input[name=password]', 'guest');
    await page.click('form.signin button[type=submit]');
    await page.waitForSelector('.overview');
    expect(await text()).toMatch(/Connections\s*\d+/);
    expect(await text('#who')).toContain('guest');

    // Messages produced while the overview is shown appear as a Kafka rate on a later refresh.
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'console-rates', messages: Array.from({ length: 50 }, (_, i) => ({ value: `tick ${i}` })) });
    await producer.disconnect();
    await page.waitForFunction("/in [1-9][\\d,.]* msg\\/s/.test(document.querySelector('[data-protocol=kafka] .in')?.textContent)", { timeout: 10_000 });
    await shoot('overview');
  });

  it('lists Kafka topics and AMQP queues in one table with their depth', async () => {
    await open('#/destinations', '.destinations table');
    expect(await rowOf('console-orders')).toEqual(expect.arrayContaining(['kafka rocketmq', '2', '7']));
    const invoices = await rowOf('console-invoices');
    expect(invoices?.slice(1, 7)).toEqual(['amqp', '/', 'classic', '—', '3', '0']);
    await shoot('destinations');
  });

  it('shows consumer groups with lag per partition', async () => {
    await open('#/consumers', '.consumers [data-group=console-billing] table');
    const rows = await page.$$eval('[data-group=console-billing] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 5).map((td) => td.innerText.trim())));
    expect(rows).toEqual([
      ['console-orders', '0', '2', '5', '3'],
      ['console-orders', '1', '2', '2', '0'],
    ]);
  });

  it('shows the client connections of every protocol (a kafkajs producer, a RocketMQ producer, the amqplib connection) and the AMQP connection with its client', async () => {
    const port = (protocol: string) => broker.listeners().find((l) => l.protocol === protocol)!.port;
    const kafkaProducer = new Kafka({ clientId: 'console-live', brokers: [`127.0.0.1:${port('kafka')}`], logLevel: logLevel.NOTHING }).producer();
    await kafkaProducer.connect();
    const rocketProducer = new Producer({ endpoints: `127.0.0.1:${port('rocketmq')}`, namespace: '', logger: quietLogger } as never);
    await rocketProducer.startup();
    await rocketProducer.send({ topic: 'console-rocket', body: Buffer.from('x') } as never);
    try {
      await open('#/connections', '.connections table');
      expect(await text()).toMatch(/guest\s+\/\s+amqplib [\d.]+ console-invoicer/);
      const cells = (selector: string) => page.$$eval(selector, (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.innerText.trim())));
      expect(await cells('tr.connection.kafka')).toContainEqual(['kafka', expect.stringMatching(/^127\.0\.0\.1:\d+$/), '', 'console-live', '', 'no', expect.any(String), expect.stringMatching(/\d/), expect.stringMatching(/\d/)]);
      expect(await cells('tr.connection.rocketmq')).toContainEqual(['rocketmq', expect.stringMatching(/^127\.0\.0\.1:\d+$/), '', (rocketProducer as any).clientId, expect.stringMatching(/^HTTP \S+/), 'no', expect.any(String), expect.any(String), expect.any(String)]);
      expect(await cells('tr.connection.amqp')).toContainEqual(['amqp', expect.stringMatching(/^127\.0\.0\.1:\d+$/), 'guest', 'console-invoicer', expect.stringMatching(/^amqplib [\d.]+$/), 'no', expect.any(String), expect.any(String), expect.any(String)]);
      await shoot('connections');
    } finally {
      await rocketProducer.shutdown();
      await kafkaProducer.disconnect();
    }
  });

  it('shows the users and ACL bindings the CLI and kafkajs created (the security page, administrators only)', async () => {
    const port = (protocol: string) => broker.listeners().find((l) => l.protocol === protocol)!.port;
    const bootstrap = ['--bootstrap-server', `127.0.0.1:${port('kafka')}`];
    expect(await runSecurityCommand('users', ['add', 'console-carol', '--password', 'carol-secret', ...bootstrap])).toBe('user console-carol added');
    const admin = client.admin();
    await admin.connect();
    try {
      // kafkajs's enums: resourceType TOPIC 2, GROUP 3; patternType LITERAL 3, PREFIXED 4; operation READ 3, WRITE 4; permission DENY 2, ALLOW 3.
      await admin.createAcls({
        acl: [
          { resourceType: 2, resourceName: 'console-orders', resourcePatternType: 3, principal: 'User:console-carol', host: '*', operation: 3, permissionType: 3 },
          { resourceType: 3, resourceName: 'console-', resourcePatternType: 4, principal: 'User:console-carol', host: '10.0.0.1', operation: 4, permissionType: 2 },
        ],
      } as never);
    } finally {
      await admin.disconnect();
    }
    await open('#/security', '.security tr.acl');
    const cells = (selector: string) => page.$$eval(selector, (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.innerText.trim())));
    expect(await cells('tr.user')).toContainEqual(['console-carol', 'SCRAM-SHA-256, SCRAM-SHA-512', 'no', 'no', 'no', '']);
    expect(await cells('tr.acl')).toEqual([
      ['User:console-carol', 'allow', 'read', 'topic', 'console-orders', 'literal', '*'],
      ['User:console-carol', 'deny', 'write', 'group', 'console-', 'prefixed', '10.0.0.1'],
    ]);
    expect(await text('.security .cards')).toMatch(/ACL bindings\s*2/);
    await shoot('security');
    // The API behind it is for administrators: a management user is refused.
    expect((await fetch(new URL('/api/wharf/security/acls', base), { headers: { authorization: GUEST } })).status).toBe(200);
    expect((await fetch(new URL('/api/wharf/security/acls', base))).status).toBe(401);
  });

  it('browses a queue and a partition without consuming', async () => {
    await open('#/browse?queue=console-invoices&vhost=%2F', '.browse .message');
    const messages = await texts('.message');
    expect(messages).toHaveLength(3);
    expect(messages[0]).toContain('invoice #1 for ACME');
    expect(messages[0]).toMatch(/content_type\s+text\/plain/);
    expect(messages[0]).toMatch(/customer\s+ACME/);
    expect(messages[2]).toContain('binary, base64');
    await shoot('browse-queue');

    await open('#/browse?topic=console-orders&partition=0', '.browse .message');
    // Only the hash changed: the queue's three messages stay on screen until the partition's replace them.
    await page.waitForFunction("[...document.querySelectorAll('.browse .message')].some((m) => m.innerText.includes('key order-0'))");
    const records = await texts('.message');
    expect(records).toHaveLength(5);
    expect(records[0]).toMatch(/offset 0 .* key order-0/);
    expect(records[0]).toMatch(/origin\s+console-test/);
    expect(records[0]).toContain('"item": "anchor chain"');

    const queue = await api<{ messages_ready: number; messages_unacknowledged: number }>('/api/queues/%2F/console-invoices');
    expect([queue.messages_ready, queue.messages_unacknowledged]).toEqual([3, 0]);
    const group = await api<{ offsets: Array<{ partition: number; lag: number }> }>('/api/wharf/kafka/groups/console-billing');
    expect(group.offsets.map((o) => [o.partition, o.lag]).sort()).toEqual([[0, 3], [1, 0]]);
  });

  it('exports definitions and imports them', async () => {
    await open('#/definitions', '.definitions');
    await page.waitForFunction("document.querySelector('textarea[readonly]')?.value.includes('console-invoices')");
    const exported = JSON.parse(await page.$eval('textarea[readonly]', (el) => el.value as string)) as { queues: Array<{ name: string }> };
    expect(exported.queues.map((q) => q.name)).toContain('console-invoices');
    expect(await page.$eval('a[download]', (a) => a.href as string)).toMatch(/^blob:/);

    const imported = { queues: [{ name: 'console-imported', vhost: '/', durable: true, auto_delete: false, arguments: {} }] };
    await page.$eval('textarea[name=definitions]', (el, json) => void (el.value = json), JSON.stringify(imported));
    await page.click('.definitions form button[type=submit]');
    await page.waitForFunction("document.querySelector('.definitions form + [role=status]')?.textContent.startsWith('Imported')");
    expect((await api<{ name: string }>('/api/queues/%2F/console-imported')).name).toBe('console-imported');
    await shoot('definitions');
  });

  it('logged no console errors and had no failed requests', () => {
    expect(problems).toEqual([]);
  });
});

describe('admin HTTP refusals for the console', () => {
  let broker: Broker;
  let base: URL;

  beforeAll(async () => {
    broker = await createBroker({ plugins: [memoryStorage(), rabbit(), adminHttp(), adminConsole()], config: { logLevel: 'error', host: '127.0.0.1', amqp: { port: 'auto' }, http: { port: 'auto' } } });
    await broker.start();
    base = new URL(`http://127.0.0.1:${broker.listeners().find((l) => l.protocol === 'http')!.port}/`);
  });

  afterAll(() => broker?.stop());

  it('serves the console files publicly, revalidated by ETag, and nothing else under /console', async () => {
    const page = await fetch(base);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<script type="module" src="/console/js/app.js">');
    const script = await fetch(new URL('/console/js/app.js', base));
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const etag = script.headers.get('etag')!;
    expect((await fetch(new URL('/console/js/app.js', base), { headers: { 'if-none-match': etag } })).status).toBe(304);
    for (const missing of ['/console/js/nope.js', '/console/../index.ts', '/console/%2e%2e/index.ts', '/console/']) expect((await fetch(new URL(missing, base))).status).toBe(404);
  });

  it('challenges a failed login with WWW-Authenticate, except for a script that says it is one', async () => {
    const wrong = `Basic ${Buffer.from('guest:wrong').toString('base64')}`;
    const plain = await fetch(new URL('/api/wharf/overview', base), { headers: { authorization: wrong } });
    expect([plain.status, plain.headers.get('www-authenticate')]).toEqual([401, 'Basic realm="RabbitMQ Management"']);
    for (const authorization of [wrong, undefined]) {
      const scripted = await fetch(new URL('/api/wharf/overview', base), { headers: { 'x-requested-with': 'XMLHttpRequest', ...(authorization ? { authorization } : {}) } });
      expect([scripted.status, scripted.headers.get('www-authenticate')]).toEqual([401, null]);
    }
  });
});
