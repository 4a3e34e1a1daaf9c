import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEARTBEAT_FRAME } from '../../plugins/rabbit/codec/index.ts';
import { AmqpWire } from '../helpers/amqp-wire.ts';
import { startAmqp, type AmqpTestBroker } from '../helpers/amqp.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const KiB = 1024;
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Buffer memory alive now, garbage collected first. */
async function liveBufferBytes(): Promise<number> {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50)); // V8 frees array buffers after the collection, concurrently
  gc();
  return process.memoryUsage().arrayBuffers;
}

/** A raw connection (heartbeat 2 s) consuming from its own exclusive queue. */
async function consumer(port: number): Promise<{ wire: AmqpWire; queue: string }> {
  const wire = await AmqpWire.open(port, { heartbeat: 2 });
  wire.method(1, 'channel.open', { outOfBand: '' });
  await wire.expect('channel.open-ok');
  wire.method(1, 'queue.declare', { ticket: 0, queue: '', passive: false, durable: false, exclusive: true, autoDelete: false, nowait: false, arguments: new Map() });
  const { queue } = (await wire.expect('queue.declare-ok')).args;
  wire.method(1, 'basic.consume', { ticket: 0, queue, consumerTag: '', noLocal: false, noAck: true, exclusive: false, nowait: false, arguments: new Map() });
  await wire.expect('basic.consume-ok');
  return { wire, queue };
}

let broker: AmqpTestBroker;
const dir = tempDir();
beforeAll(async () => {
  broker = await startAmqp({ dataDir: dir.path }); // storage-fs: message bytes are in files, not in buffers
});
afterAll(async () => {
  await broker.stop();
  dir.remove();
});

describe('memory of idle AMQP connections', () => {
  it('allocates no output buffer for a connection that has not sent the protocol header', async () => {
    const before = await liveBufferBytes();
    const sockets = await Promise.all(
      Array.from({ length: 500 }, () => new Promise<net.Socket>((resolve) => { const s = net.connect({ host: '127.0.0.1', port: broker.port }, () => resolve(s)); })),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const perConnection = (await liveBufferBytes() - before) / sockets.length;
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300)); // the broker lets go of them before the next test measures
    expect(perConnection).toBeLessThan(1 * KiB); // a 64 KiB output slab each before
  });

  it('allocates a small output buffer when it first delivers, and drops it once a heartbeat finds the connection idle', async () => {
    const before = await liveBufferBytes();
    const consumers: Array<{ wire: AmqpWire; queue: string }> = [];
    const heartbeats = setInterval(() => {
      for (const { wire } of consumers) wire.socket.write(HEARTBEAT_FRAME);
    }, 500);
    consumers.push(...(await Promise.all(Array.from({ length: 200 }, () => consumer(broker.port)))));
    const afterHandshake = (await liveBufferBytes() - before) / consumers.length; // with a channel, an exclusive queue and a consumer
    const publisher = await broker.connect();
    const channel = await publisher.createChannel();
    for (const { queue } of consumers) channel.sendToQueue(queue, Buffer.from('hello'));
    await Promise.all(consumers.map(({ wire }) => wire.expect('basic.deliver')));
    await publisher.close();
    const afterDelivery = (await liveBufferBytes() - before) / consumers.length;
    await new Promise((resolve) => setTimeout(resolve, 2500)); // the server's heartbeat tick, every second, finds it idle after one
    const whenIdle = (await liveBufferBytes() - before) / consumers.length;
    clearInterval(heartbeats);
    expect(consumers.every(({ wire }) => !wire.socket.destroyed)).toBe(true);
    for (const { wire } of consumers) wire.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(afterHandshake).toBeLessThan(32 * KiB); // a 64 KiB output slab each, besides the queue, before
    expect(afterDelivery - afterHandshake).toBeLessThan(32 * KiB);
    expect(afterDelivery - whenIdle).toBeGreaterThan(3 * KiB); // the 4 KiB output buffer is gone
  });
});
