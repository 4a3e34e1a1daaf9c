import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';

const MiB = 1024 * 1024;
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Buffer memory alive now (garbage collected first, so that socket chunks already copied do not count). */
async function liveBufferBytes(): Promise<number> {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50)); // V8 frees array buffers after the collection, concurrently
  gc();
  return process.memoryUsage().arrayBuffers;
}
const brokers: KafkaTestBroker[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const broker of brokers.splice(0)) await broker.stop();
});

async function start(kafka: Record<string, unknown>): Promise<KafkaTestBroker> {
  const broker = await startKafka({ kafka });
  brokers.push(broker);
  return broker;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
    sockets.push(socket);
  });
}

/** The 4-byte size prefix of a request declaring `size` bytes. */
function sizePrefix(size: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(size);
  return prefix;
}

/** Writes `total` bytes in 64 KiB pieces, waiting for the socket to drain, so the client itself holds little. */
async function writeBody(socket: net.Socket, total: number): Promise<void> {
  const piece = Buffer.alloc(64 * 1024, 1);
  for (let sent = 0; sent < total && !socket.destroyed; sent += piece.length) {
    if (!socket.write(piece.subarray(0, Math.min(piece.length, total - sent)))) {
      await new Promise((resolve) => (socket.once('drain', resolve), socket.once('close', resolve)));
    }
  }
}

const closed = (socket: net.Socket) => socket.destroyed || socket.readableEnded;

describe('memory held by Kafka requests in flight', () => {
  it('holds memory for the bytes that arrive, not the size declared: 20 connections trickling into 100 MiB requests hold almost nothing', async () => {
    const kafka = await start({});
    const before = await liveBufferBytes();
    const tricklers = await Promise.all(Array.from({ length: 20 }, () => connect(kafka.port)));
    for (const socket of tricklers) socket.write(sizePrefix(100 * MiB - 1));
    for (let i = 0; i < 10; i++) {
      for (const socket of tricklers) socket.write(Buffer.from([i]));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(tricklers.filter(closed)).toHaveLength(0);
    expect(await liveBufferBytes() - before).toBeLessThan(4 * MiB); // the old framing allocated 2,000 MiB here
  });

  it('stops reading past queuedMaxRequestBytes and closes connections whose requests stall', async () => {
    const kafka = await start({ maxRequestBytes: 64 * MiB, queuedMaxRequestBytes: 4 * MiB, stalledRequestTimeoutMs: 1000 });
    const before = await liveBufferBytes();
    const senders = await Promise.all(Array.from({ length: 16 }, () => connect(kafka.port)));
    for (const socket of senders) socket.write(sizePrefix(4 * MiB));
    // Each sends three quarters of its request, as far as the broker reads, then stalls.
    await Promise.race([Promise.all(senders.map((socket) => writeBody(socket, 3 * MiB))), new Promise((resolve) => setTimeout(resolve, 800))]);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the broker reads what it will
    const held = await liveBufferBytes() - before;
    expect(held).toBeLessThan(12 * MiB); // the limit + a socket read per connection + the oldest request's buffer; not 16 x 4 MiB
    await eventually(() => senders.every(closed), 5000, 'stalled connections closed');
    const admin = kafka.client().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'after-stall' }] });
    await admin.disconnect();
  });

  it('applies back-pressure, not failure: concurrent producers of requests larger than the bound all succeed', async () => {
    const kafka = await start({ queuedMaxRequestBytes: 1 * MiB, maxMessageBytes: 4 * MiB });
    const admin = kafka.client().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'big', numPartitions: 1 }] });
    await admin.disconnect();
    const producers = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const producer = kafka.client().producer();
        await producer.connect();
        return producer;
      }),
    );
    const value = (i: number) => Buffer.alloc(1536 * 1024, i);
    await Promise.all(producers.map((producer, i) => producer.send({ topic: 'big', messages: [{ value: value(i) }] })));
    for (const producer of producers) await producer.disconnect();
    const consumer = kafka.client().consumer({ groupId: 'big-readers', maxBytes: 16 * MiB, maxBytesPerPartition: 16 * MiB });
    await consumer.connect();
    await consumer.subscribe({ topic: 'big', fromBeginning: true });
    const seen: number[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.length === 1536 * 1024 && message.value!.every((b) => b === message.value![0]) ? message.value![0]! : -1) });
    await eventually(() => seen.length >= 6, 20_000, 'six big messages');
    await consumer.disconnect();
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
