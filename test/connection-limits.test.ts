import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionsWithin, openFileLimit } from '../core/index.ts';
import { ApiKeys, decodeResponse, encodeRequest } from '../plugins/kafka/codec/index.ts';
import { Flood, sleep } from './helpers/flood.ts';
import { eventually } from './helpers/kafka.ts';
import { hasProgram } from './helpers/programs.ts';
import { startBrokerProcess, type BrokerProcess } from './helpers/spawn.ts';
import { tempDir } from './helpers/temp-dir.ts';

/** prlimit is there, and this process may open the 2,200 client sockets the tests hold. */
function runnable(): boolean {
  if (!hasProgram('prlimit', 'the open-file limit tests')) return false;
  if ((openFileLimit()?.soft ?? 0) >= 2600) return true;
  console.warn('SKIP the open-file limit tests: this process may not open the 2,600 files they need');
  return false;
}

const floods: Flood[] = [];
/** Run last to first: clients disconnect, then brokers stop, then their directories go. */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const flood of floods.splice(0)) flood.close();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(args: string[], nofile: string): Promise<BrokerProcess> {
  const broker = await startBrokerProcess(args, { nofile });
  cleanups.push(() => broker.stop());
  return broker;
}

async function flood(port: number, count: number): Promise<Flood> {
  const f = await Flood.open(port, count);
  floods.push(f);
  return f;
}

/** ApiVersions v0 on an open socket: resolves with the error code of the answer. */
function apiVersions(socket: net.Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      const bytes = Buffer.concat(chunks);
      if (bytes.length < 4 || bytes.length < 4 + bytes.readInt32BE(0)) return;
      socket.off('data', onData);
      resolve(decodeResponse(ApiKeys.ApiVersions, 0, bytes.subarray(4)).body.errorCode);
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('closed without an answer')));
    for (const chunk of encodeRequest(ApiKeys.ApiVersions, 0, 1, 'fd-test', { clientSoftwareName: '', clientSoftwareVersion: '' })) socket.write(chunk);
  });
}

async function freshApiVersions(port: number): Promise<number> {
  const socket = net.connect({ host: '127.0.0.1', port });
  try {
    return await apiVersions(socket);
  } finally {
    socket.destroy();
  }
}

async function amqpWorks(port: number): Promise<void> {
  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  const channel = await connection.createChannel();
  await channel.assertQueue('', { exclusive: true });
  await connection.close();
}

describe.runIf(runnable())('connections at the open-file limit (a broker process under prlimit)', () => {
  it('runs with the hard limit and reports the limit in effect and the connections it allows', async () => {
    const broker = await start([], '1024:4096');
    expect(broker.ready).toMatch(/connections max 3596 \(open files 4096\)/);
    expect(connectionsWithin({ soft: 4096, hard: 4096 })).toBe(3596);
  });

  it('holds connections up to the budget across ports, refuses the rest with a log line, and keeps serving', async () => {
    const broker = await start([], '1024');
    const budget = connectionsWithin({ soft: 1024, hard: 1024 });
    expect(broker.ready).toContain(`connections max ${budget} (open files 1024)`);
    const kafka = await flood(broker.port('kafka'), 1100);
    const rocket = await flood(broker.port('rocketmq'), 1100);
    await sleep(1500); // the AMQP memory watermark timer runs every 500 ms
    expect(broker.child.exitCode).toBeNull();
    expect(kafka.open.length + rocket.open.length).toBe(budget);
    expect(broker.log()).toMatch(/connection limit reached: refusing connections/);
    expect(await apiVersions(kafka.open[0]!)).toBe(0);
    kafka.close();
    rocket.close();
    await sleep(300);
    await amqpWorks(broker.port('amqp'));
    expect(await freshApiVersions(broker.port('kafka'))).toBe(0);
  });

  it('survives running out of descriptors (accept, file opens, timers) when --max-connections allows more than the limit', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const broker = await start(['--max-connections', '5000', '--storage', 'fs', '--data-dir', dir.path, '--topics-flush', 'never'], '1024');
    expect(broker.log()).toMatch(/max-connections leaves too few file descriptors/);
    const admin = new Kafka({ brokers: [`127.0.0.1:${broker.port('kafka')}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const kafka = await flood(broker.port('kafka'), 1100);
    await admin.createTopics({ topics: [{ topic: 'during', numPartitions: 8 }] }).catch(() => undefined); // segment files cannot be opened now
    await sleep(1500); // the AMQP memory watermark timer reads /proc every 500 ms
    expect(broker.child.exitCode).toBeNull();
    expect(kafka.open.length).toBeGreaterThan(500);
    // The rest found no descriptor: libuv accepts and closes them one by one, slower on a loaded machine.
    await eventually(() => kafka.open.length < 1024, 15_000, 'connections beyond the descriptors closed');
    // The memory timer's read of /proc fails while every descriptor is taken (when it runs is a race with libuv's accepts).
    await eventually(() => /cannot read the memory use/.test(broker.log()), 10_000, 'the memory timer to meet EMFILE');
    expect(broker.child.exitCode).toBeNull();
    expect(await apiVersions(kafka.open[0]!)).toBe(0);
    kafka.close();
    await sleep(300);
    await admin.createTopics({ topics: [{ topic: 'after', numPartitions: 8 }] });
    expect(await admin.listTopics()).toContain('after');
    expect(await freshApiVersions(broker.port('kafka'))).toBe(0);
    await amqpWorks(broker.port('amqp'));
  });
});
