import { afterEach, describe, expect, it } from 'vitest';
import { Offset, type Client, type Message } from 'rabbitmq-stream-js-client';
import { startStream, type StreamTestBroker } from '../helpers/stream.ts';

let broker: StreamTestBroker | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  await broker?.stop();
  broker = undefined;
});

async function client(options?: Parameters<StreamTestBroker['connect']>[0]): Promise<Client> {
  const c = await broker!.connect(options);
  clients.push(c);
  return c;
}

function collect(count: number, timeoutMs = 10_000): { messages: Message[]; handle: (m: Message) => void; done: Promise<Message[]> } {
  const messages: Message[] = [];
  let resolve!: (m: Message[]) => void;
  let reject!: (e: Error) => void;
  const done = new Promise<Message[]>((res, rej) => ((resolve = res), (reject = rej)));
  const timer = setTimeout(() => reject(new Error(`only ${messages.length} of ${count} messages`)), timeoutMs);
  return {
    messages,
    done,
    handle: (m) => {
      messages.push(m);
      if (messages.length === count) {
        clearTimeout(timer);
        resolve(messages);
      }
    },
  };
}

describe('RabbitMQ Stream protocol (rabbitmq-stream-js-client)', () => {
  it('publishes with confirms and consumes from first, with properties and application properties', async () => {
    broker = await startStream();
    const c = await client();
    await c.createStream({ stream: 'orders', arguments: {} });
    const publisher = await c.declarePublisher({ stream: 'orders' });
    for (let i = 0; i < 10; i++) {
      await publisher.send(Buffer.from(`order ${i}`), { messageProperties: { messageId: `m${i}`, contentType: 'text/plain' }, applicationProperties: { region: 'eu', n: i + 1 } });
    }
    await publisher.flush();
    const got = collect(10);
    await c.declareConsumer({ stream: 'orders', offset: Offset.first() }, got.handle);
    const messages = await got.done;
    expect(messages.map((m) => m.content.toString())).toEqual([...Array(10).keys()].map((i) => `order ${i}`));
    expect(messages.map((m) => m.offset)).toEqual([...Array(10).keys()].map((i) => BigInt(i)));
    expect(messages[3]!.messageProperties).toMatchObject({ messageId: 'm3', contentType: 'text/plain' });
    expect(messages[3]!.applicationProperties).toEqual({ region: 'eu', n: 4 });
  });
});
