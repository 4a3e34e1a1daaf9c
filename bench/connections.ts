/**
 * Connections: what holding them costs and how many a broker holds at its open-file limit.
 *  - broker RSS per connection, per protocol: idle sockets that sent nothing, and open ones (Kafka after
 *    ApiVersions, AMQP after the handshake with a channel, an exclusive queue and a consumer, an HTTP/2
 *    session on the gRPC port), beside a bare Node server holding the same sockets in the same run
 *    (median of 3, fresh servers, young generation kept small so RSS follows what is retained);
 *  - a broker under `prlimit --nofile=1024` flooded with 1,100 idle connections on the Kafka and on the
 *    RocketMQ port: connections held, and whether it still serves.
 * BENCH_CONNECTIONS (default 2,000 per measurement). Needs prlimit (util-linux) for the second part.
 */
import amqp from 'amqplib';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { ApiKeys, encodeRequest } from '../plugins/kafka/codec/index.ts';
import { fmt, lineMatching, median, printTable } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const COUNT = Number(process.env.BENCH_CONNECTIONS ?? 2000);
const RUNS = 3;
/** A small young generation, so that RSS follows what connections keep rather than when V8 last collected. */
const NODE_FLAGS = ['--max-semi-space-size=1'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

interface Process {
  child: ChildProcess;
  port(protocol: string): number;
  stop(): Promise<void>;
}

/** Handshake timeouts long enough that idle sockets stay while they are counted. */
const PATIENT = ['--amqp-handshake-timeout-ms', '600000', '--rocket-handshake-timeout-ms', '600000'];

async function broker(prefix: string[] = [], flags: string[] = PATIENT): Promise<Process> {
  const args = [path.join(ROOT, 'bin/wharf.js'), 'start', '--storage', 'memory', '--host', '127.0.0.1', '--log-level', 'error', '--kafka-port', 'auto', '--amqp-port', 'auto', '--rocket-port', 'auto', '--stream-port', 'auto', ...flags];
  const node = [process.execPath, ...NODE_FLAGS, ...args];
  const child = spawn(prefix[0] ?? node[0]!, [...prefix.slice(1), ...(prefix.length > 0 ? node : node.slice(1))], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await lineMatching(child, /^Wharf ready/);
  return {
    child,
    port: (protocol) => Number(new RegExp(`${protocol} 127\\.0\\.0\\.1:(\\d+)`).exec(ready)![1]),
    stop: () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM')))),
  };
}

/** A Node server that accepts sockets (TCP or HTTP/2) and does nothing else: the least a connection costs. */
async function bareServer(kind: 'tcp' | 'http2'): Promise<Process> {
  const code =
    kind === 'tcp'
      ? `const s = require('net').createServer((c) => c.on('error', () => {})).listen(0, '127.0.0.1', () => console.log('port ' + s.address().port));`
      : `const s = require('http2').createServer().on('sessionError', () => {}).listen(0, '127.0.0.1', () => console.log('port ' + s.address().port));`;
  const child = spawn(process.execPath, [...NODE_FLAGS, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = Number((await lineMatching(child, /^port \d+$/)).split(' ')[1]);
  return { child, port: () => port, stop: async () => void child.kill('SIGTERM') };
}

function tcp(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', () => resolve(socket));
    socket.on('data', () => undefined);
  });
}

async function kafkaOpen(port: number): Promise<net.Socket> {
  const socket = await tcp(port);
  await new Promise<void>((resolve, reject) => {
    socket.once('data', () => resolve());
    socket.once('close', () => reject(new Error('closed without an answer')));
    for (const chunk of encodeRequest(ApiKeys.ApiVersions, 0, 1, 'bench', { clientSoftwareName: '', clientSoftwareVersion: '' })) socket.write(chunk);
  });
  return socket;
}

async function amqpOpen(port: number, i: number): Promise<{ close(): unknown }> {
  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.consume(queue, () => undefined, { consumerTag: `c${i}` });
  return { close: () => connection.close().catch(() => undefined) };
}

async function http2Open(port: number): Promise<{ close(): unknown }> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  await new Promise((resolve) => session.once('remoteSettings', resolve));
  return { close: () => session.destroy() };
}

/** Opens `COUNT` connections with `open` (50 at a time) against a fresh server; RSS per connection in KiB. */
async function perConnection(server: Process, open: (i: number) => Promise<{ destroy?(): unknown; close?(): unknown }>): Promise<number> {
  await Promise.all(Array.from({ length: 50 }, (_, i) => open(-1 - i))); // warm up: code paths compiled, pools allocated
  await sleep(1000);
  const before = rss(server.child.pid!);
  const held: Array<{ destroy?(): unknown; close?(): unknown }> = [];
  for (let i = 0; i < COUNT; i += 50) held.push(...(await Promise.all(Array.from({ length: Math.min(50, COUNT - i) }, (_, j) => open(i + j)))));
  await sleep(2000);
  const perConnectionKiB = (rss(server.child.pid!) - before) / COUNT / 1024;
  for (const h of held) h.destroy ? h.destroy() : h.close?.();
  await server.stop();
  return perConnectionKiB;
}

const rows: string[][] = [];
const kib = (value: number) => `${fmt(value, 1)} KiB`;
/** The median of RUNS measurements, each on a fresh server, taking turns with the reference. */
const measure = async (label: string, wharf: () => Promise<number>, reference?: () => Promise<number>, referenceLabel = '') => {
  const ours: number[] = [];
  const refs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    ours.push(await wharf());
    if (reference) refs.push(await reference());
  }
  rows.push([label, kib(median(ours)), reference ? kib(median(refs)) : '', referenceLabel]);
};

await measure('Kafka, idle TCP', async () => { const b = await broker(); return perConnection(b, () => tcp(b.port('kafka'))); }, async () => { const s = await bareServer('tcp'); return perConnection(s, () => tcp(s.port('tcp'))); }, 'bare net.Server');
await measure('AMQP, idle TCP', async () => { const b = await broker(); return perConnection(b, () => tcp(b.port('amqp'))); });
await measure('RocketMQ gRPC, idle TCP', async () => { const b = await broker(); return perConnection(b, () => tcp(b.port('rocketmq'))); });
await measure('Kafka, after ApiVersions', async () => { const b = await broker(); return perConnection(b, () => kafkaOpen(b.port('kafka'))); });
await measure('AMQP, open + channel + queue + consumer', async () => { const b = await broker(); return perConnection(b, (i) => amqpOpen(b.port('amqp'), i)); });
await measure('RocketMQ gRPC, idle HTTP/2 session', async () => { const b = await broker(); return perConnection(b, () => http2Open(b.port('rocketmq'))); }, async () => { const s = await bareServer('http2'); return perConnection(s, () => http2Open(s.port('http2'))); }, 'bare http2 server');
printTable(`broker RSS per connection, ${fmt(COUNT)} connections, median of ${RUNS} (node ${NODE_FLAGS.join(' ')})`, ['connections', 'wharf', 'reference', 'reference is'], rows);

if (spawnSync('prlimit', ['--version']).status === 0) {
  const limited = await broker(['prlimit', '--nofile=1024', '--'], []);
  const floods: net.Socket[][] = [];
  for (const protocol of ['kafka', 'rocketmq']) floods.push(await Promise.all(Array.from({ length: 1100 }, () => tcp(limited.port(protocol)))));
  const count = () => floods.map((sockets) => sockets.filter((s) => !s.destroyed && !s.readableEnded).length);
  let held = count();
  for (let settled = false, i = 0; !settled && i < 20; i++) {
    await sleep(1000); // until the broker has accepted (or refused) everything queued
    const again = count();
    settled = again.every((n, j) => n === held[j]);
    held = again;
  }
  const alive = limited.child.exitCode === null;
  for (const socket of floods.flat()) socket.destroy();
  await sleep(300);
  const serves = alive && (await kafkaOpen(limited.port('kafka')).then((s) => (s.destroy(), true), () => false));
  printTable('prlimit --nofile=1024: 1,100 idle connections to the Kafka port, then 1,100 to the RocketMQ port', ['measurement', 'wharf'], [
    ['Kafka connections held', fmt(held[0]!)],
    ['RocketMQ connections held', fmt(held[1]!)],
    ['broker alive, serves a new connection after the flood', alive && serves ? 'yes' : 'no'],
  ]);
  await limited.stop();
} else console.log('\nSKIP the open-file limit part: prlimit is not installed (apt-get install util-linux)');
process.exit(0);
