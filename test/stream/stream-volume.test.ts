import { afterAll, describe, expect, it } from 'vitest';
import { Offset, type Client } from 'rabbitmq-stream-js-client';
import { startStream, type StreamTestBroker } from '../helpers/stream.ts';

const COUNT = Number(process.env.WHARF_STREAM_VOLUME ?? 1_000_000);

let broker: StreamTestBroker | undefined;
let client: Client | undefined;
afterAll(async () => {
  await client?.close().catch(() => {});
  await broker?.stop();
});

describe('stream protocol volume', () => {
  it(`publishes ${COUNT} small messages with confirms and reads every one back, in order`, async () => {
    broker = await startStream();
    client = await broker.connect();
    await client.createStream({ stream: 'volume', arguments: {} });
    const publisher = await client.declarePublisher({ stream: 'volume', publisherRef: 'volume-writer' });
    let confirmed = 0;
    const allConfirmed = new Promise<void>((resolve) =>
      publisher.on('publish_confirm', (err, ids) => {
        if (err) throw new Error(`publish error ${err}`);
        confirmed += ids.length;
        if (confirmed === COUNT) resolve();
      }),
    );
    const started = Date.now();
    for (let i = 1; i <= COUNT; i++) {
      const body = Buffer.alloc(16, 'x');
      body.writeUInt32BE(i, 0);
      await publisher.basicSend(BigInt(i), body);
    }
    await publisher.flush();
    await allConfirmed;
    const published = Date.now() - started;
    expect(await publisher.getLastPublishingId()).toBe(BigInt(COUNT));

    let received = 0;
    let inOrder = true;
    const allReceived = new Promise<void>((resolve) => {
      void client!.declareConsumer({ stream: 'volume', offset: Offset.first() }, (message) => {
        received++;
        if (inOrder && (message.content.readUInt32BE(0) !== received || message.offset !== BigInt(received - 1))) {
          inOrder = false;
          console.log("first out of order", received, message.content.readUInt32BE(0), message.offset);
        }
        if (received === COUNT) resolve();
      });
    });
    await allReceived;
    expect(inOrder).toBe(true);
    console.log(`stream volume: ${COUNT} messages published with confirms in ${published} ms, read back in ${Date.now() - started - published} ms`);
  }, 120_000);
});
