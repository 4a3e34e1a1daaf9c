/**
 * The web console's first paint on loopback, in headless Chromium (Debian's chromium, driven by
 * puppeteer-core): first contentful paint of `/`, and the time until the overview shows the broker's
 * data (signed in, so every API call it makes is included), with a cold browser cache (a fresh
 * browser context per load) and a warm one (reloads that revalidate by ETag). The broker holds 40
 * Kafka topics of 4 partitions and 40 AMQP queues.
 */
import { spawnSync } from 'node:child_process';
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { createBroker } from '../core/index.ts';
import { adminConsole } from '../plugins/admin-console/index.ts';
import { adminHttp } from '../plugins/admin-http/index.ts';
import { kafka } from '../plugins/kafka/index.ts';
import { rabbit } from '../plugins/rabbit/index.ts';
import { rocket } from '../plugins/rocket/index.ts';
import { memoryStorage } from '../plugins/storage-memory/index.ts';
import { fmt, median, printTable, spread } from './harness.ts';

const RUNS = 9;
const TOPICS = 40;
const QUEUES = 40;

const chromium = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
if (!chromium) {
  console.log('SKIP bench/console: chromium is not installed (apt-get install chromium)');
  process.exit(0);
}

const broker = await createBroker({
  plugins: [memoryStorage(), kafka(), rabbit(), rocket(), adminHttp(), adminConsole()],
  config: { logLevel: 'error', host: '127.0.0.1', kafka: { port: 'auto' }, amqp: { port: 'auto' }, rocket: { port: 'auto' }, http: { port: 'auto' }, topics: { flush: 'never' } },
});
await broker.start();
const port = (protocol: string) => broker.listeners().find((l) => l.protocol === protocol)!.port;
const base = `http://127.0.0.1:${port('http')}/`;

const client = new Kafka({ brokers: [`127.0.0.1:${port('kafka')}`], logLevel: logLevel.NOTHING });
const admin = client.admin();
await admin.connect();
await admin.createTopics({ topics: Array.from({ length: TOPICS }, (_, i) => ({ topic: `bench-topic-${i}`, numPartitions: 4 })) });
await admin.disconnect();
const producer = client.producer();
await producer.connect();
await producer.sendBatch({ topicMessages: Array.from({ length: TOPICS }, (_, i) => ({ topic: `bench-topic-${i}`, messages: Array.from({ length: 20 }, (_, m) => ({ value: `message ${m}` })) })) });
await producer.disconnect();
const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port('amqp')}`);
const channel = await connection.createConfirmChannel();
for (let i = 0; i < QUEUES; i++) {
  await channel.assertQueue(`bench-queue-${i}`);
  channel.sendToQueue(`bench-queue-${i}`, Buffer.from('hello'));
}
await channel.waitForConfirms();

const browser: Browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu'] });

/** Signs the tab in (the console keeps credentials in sessionStorage) and notes when the overview first appears. */
const PREPARE = `
  sessionStorage.setItem('wharf.console.credentials', ${JSON.stringify(`Basic ${Buffer.from('guest:guest').toString('base64')}`)});
  sessionStorage.setItem('wharf.console.credentials.user', 'guest');
  new MutationObserver((_, observer) => {
    if (document.querySelector('.overview')) {
      window.overviewAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
`;
const TIMES = "({ paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN, overview: window.overviewAt })";

async function measure(page: Page, load: () => Promise<unknown>): Promise<{ paint: number; overview: number }> {
  await load();
  await page.waitForSelector('.overview');
  return page.evaluate(TIMES) as Promise<{ paint: number; overview: number }>;
}

const cold: Array<{ paint: number; overview: number }> = [];
for (let i = 0; i < RUNS; i++) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.evaluateOnNewDocument(PREPARE);
  cold.push(await measure(page, () => page.goto(base)));
  await context.close();
}
const warm: Array<{ paint: number; overview: number }> = [];
const page = await browser.newPage();
await page.evaluateOnNewDocument(PREPARE);
await page.goto(base);
await page.waitForSelector('.overview');
for (let i = 0; i < RUNS; i++) warm.push(await measure(page, () => page.reload()));

await browser.close();
await connection.close();
await broker.stop();

const row = (label: string, runs: Array<{ paint: number; overview: number }>) => {
  const paint = runs.map((r) => r.paint);
  const overview = runs.map((r) => r.overview);
  return [label, fmt(median(paint)), spread(paint), fmt(median(overview)), spread(overview)];
};
printTable(`web console on loopback, ${RUNS} loads each, ms since navigation start (${TOPICS} topics × 4 partitions, ${QUEUES} queues)`, ['cache', 'first paint', 'range', 'overview with data', 'range'], [row('cold', cold), row('warm', warm)]);
