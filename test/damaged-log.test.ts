import amqp from 'amqplib';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { logDirName } from '../core/index.ts';
import { startBrokerProcess, type BrokerProcess } from './helpers/broker-process.ts';
import { fetchValues } from './helpers/kafka-wire.ts';
import { rawRocketClient } from './helpers/rocket-wire.ts';
import { tempDir } from './helpers/temp-dir.ts';

/** Where each stored batch of a segment file starts, walking the batch lengths. */
function batchPositions(file: string): number[] {
  const bytes = fs.readFileSync(file);
  const positions: number[] = [];
  for (let pos = 0; pos + 12 <= bytes.length; pos += 12 + bytes.readInt32BE(pos + 8)) positions.push(pos);
  return positions;
}

/** Rewrites bytes of a file in place, as a disk or an operator could while the broker is stopped. */
function damage(file: string, position: number, change: (bytes: Buffer) => void, length = 4): void {
  const fd = fs.openSync(file, 'r+');
  const bytes = Buffer.alloc(length);
  fs.readSync(fd, bytes, 0, length, position);
  change(bytes);
  fs.writeSync(fd, bytes, 0, length, position);
  fs.closeSync(fd);
}

function segmentsOf(dataDir: string, logDir: string): string[] {
  return fs
    .readdirSync(path.join(dataDir, logDir))
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => path.join(dataDir, logDir, f));
}

function kafkaClient(broker: BrokerProcess): Kafka {
  return new Kafka({ clientId: 'damage-test', brokers: [`127.0.0.1:${broker.ports.kafka}`], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100 } });
}

describe('a log damaged while the broker was stopped', () => {
  const dir = tempDir();
  let broker: BrokerProcess | undefined;
  afterEach(async () => {
    await broker?.kill();
    broker = undefined;
    dir.remove();
  });

  it('is cut at the damage on a clean start, so what is acknowledged after it survives the next crash', async () => {
    // A kill -9 loses nothing the process wrote, so the OS may decide when to sync: the test runs faster.
    const args = ['--topics-flush', 'never'];
    broker = await startBrokerProcess(dir.path, args);
    let kafka = kafkaClient(broker);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'damaged', numPartitions: 1 }] });
    await admin.disconnect();
    let producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < 20; i++) await producer.send({ topic: 'damaged', acks: -1, messages: [{ value: `before-${i}` }] });
    await producer.disconnect();
    expect(await broker.stop()).toBe(0);

    // One bit of the 11th batch's records flips while the broker is down (its CRC no longer matches).
    const [segment] = segmentsOf(dir.path, 'damaged-0');
    const tenth = batchPositions(segment!)[10]!;
    damage(segment!, tenth + 70, (b) => (b[0]! ^= 0x10), 1);

    broker = await startBrokerProcess(dir.path, args);
    kafka = kafkaClient(broker);
    producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < 20; i++) await producer.send({ topic: 'damaged', acks: -1, messages: [{ value: `after-${i}` }] });
    await producer.disconnect();
    await broker.kill();

    broker = await startBrokerProcess(dir.path, args);
    const values = await fetchValues(broker.ports.kafka!, 'damaged');
    // The ten batches before the damage and every acknowledged one after the restart are there; nothing else.
    expect(values).toEqual([...Array.from({ length: 10 }, (_, i) => `before-${i}`), ...Array.from({ length: 20 }, (_, i) => `after-${i}`)]);
  }, 90_000);

  it('takes down only its own AMQP queue: no damaged body is delivered, clients get 404, the broker and other queues go on', async () => {
    const segments = ['--amqp-segment-bytes', String(64 * 1024), '--topics-flush', 'never'];
    broker = await startBrokerProcess(dir.path, segments);
    const url = () => `amqp://guest:guest@127.0.0.1:${broker!.ports.amqp}`;
    const body = (queue: string, i: number) => Buffer.from(`${queue}:${i}:`.padEnd(1000, String.fromCharCode(97 + (i % 26))));
    const queues = ['flipped-body', 'bad-count', 'bad-length', 'healthy'];
    {
      const connection = await amqp.connect(url());
      const channel = await connection.createConfirmChannel();
      for (const queue of queues) {
        await channel.assertQueue(queue, { durable: true });
        // One message per batch (each waits for its confirm); 100 messages of 1 KB fill more than one 64 KiB segment.
        for (let i = 0; i < 100; i++) {
          channel.sendToQueue(queue, body(queue, i), { persistent: true });
          await channel.waitForConfirms();
        }
      }
      await connection.close();
    }
    expect(await broker.stop()).toBe(0);

    // Damage the 4th message of each queue's first (no longer active) segment in a different way.
    const first = (queue: string) => segmentsOf(dir.path, logDirName({ topic: `amqp:%2F:${queue}`, partition: 0 }))[0]!;
    const fourth = (queue: string) => batchPositions(first(queue))[3]!;
    const flipped = fs.readFileSync(first('flipped-body')).indexOf(body('flipped-body', 3));
    damage(first('flipped-body'), flipped + 500, (b) => (b[0]! ^= 0x01), 1);
    damage(first('bad-count'), fourth('bad-count') + 57, (b) => b.writeInt32BE(0x7fff0000));
    damage(first('bad-length'), fourth('bad-length') + 8, (b) => b.writeInt32BE(5));

    broker = await startBrokerProcess(dir.path, segments);
    const connection = await amqp.connect(url());
    connection.on('error', () => undefined);
    for (const queue of ['flipped-body', 'bad-count', 'bad-length']) {
      const channel = await connection.createChannel();
      const closed = new Promise<Error>((resolve) => channel.once('error', resolve));
      const delivered: Buffer[] = [];
      await expect(
        (async () => {
          for (let m = await channel.get(queue, { noAck: true }); m; m = await channel.get(queue, { noAck: true })) delivered.push(m.content);
        })(),
      ).rejects.toThrow(`NOT_FOUND - queue '${queue}' in vhost '/' has crashed and failed to restart`);
      expect((await closed).message).toContain('404');
      for (const content of delivered) expect(content.equals(body(queue, Number(content.toString().split(':')[1])))).toBe(true);
    }
    const channel = await connection.createConfirmChannel();
    channel.sendToQueue('healthy', Buffer.from('after the restart'), { persistent: true });
    await channel.waitForConfirms();
    const healthy: string[] = [];
    for (let m = await channel.get('healthy', { noAck: true }); m; m = await channel.get('healthy', { noAck: true })) healthy.push(m.content.toString());
    expect(healthy).toEqual([...Array.from({ length: 100 }, (_, i) => body('healthy', i).toString()), 'after the restart']);
    await connection.close();
    expect(broker.child.exitCode).toBe(null);
    expect(broker.stderr()).toContain('queue crashed: its log is damaged');
  }, 90_000);

  it('takes down only its own RocketMQ queue: what precedes the damage is delivered intact, then INTERNAL_SERVER_ERROR', async () => {
    const args = ['--rocket-queues', '1', '--topics-segment-bytes', String(64 * 1024), '--topics-flush', 'never'];
    broker = await startBrokerProcess(dir.path, args);
    let client = rawRocketClient(`127.0.0.1:${broker.ports.rocketmq}`);
    const body = (i: number) => Buffer.from(`${i}:`.padEnd(1000, String.fromCharCode(97 + (i % 26))));
    for (let i = 0; i < 100; i++) {
      const systemProperties = { messageId: `M${i}`, messageType: 'NORMAL', bodyEncoding: 'IDENTITY', bornTimestamp: { seconds: Math.floor(Date.now() / 1000) } };
      const sent = await client.unary('SendMessage', { messages: [{ topic: { name: 'rocket-damaged' }, body: body(i), userProperties: {}, systemProperties }] });
      expect((sent.status as { code: string }).code).toBe('OK');
    }
    client.close();
    expect(await broker.stop()).toBe(0);

    const [first] = segmentsOf(dir.path, 'rocket-damaged-0');
    damage(first!, fs.readFileSync(first!).indexOf(body(3)) + 500, (b) => (b[0]! ^= 0x01), 1);

    broker = await startBrokerProcess(dir.path, args);
    client = rawRocketClient(`127.0.0.1:${broker.ports.rocketmq}`);
    const receive = () =>
      client.stream('ReceiveMessage', { group: { name: 'readers' }, messageQueue: { topic: { name: 'rocket-damaged' }, id: -1 }, batchSize: 32, invisibleDuration: { seconds: 30 }, longPollingTimeout: { seconds: 1 } });
    const delivered: Buffer[] = [];
    let status: { code: string; message: string } | undefined;
    for (let round = 0; round < 5 && status?.code !== 'INTERNAL_SERVER_ERROR'; round++) {
      for (const response of await receive()) {
        if (response.message) delivered.push((response.message as { body: Buffer }).body);
        if (response.status) status = response.status as { code: string; message: string };
      }
    }
    expect(status?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(status?.message).toContain('is damaged');
    expect(delivered.map((b) => b.toString())).toEqual([0, 1, 2].map((i) => body(i).toString()));
    client.close();
    expect(broker.child.exitCode).toBe(null);
  }, 90_000);
});
