import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasProgram } from '../helpers/programs.ts';
import { startRabbitMq, type RabbitMq } from '../helpers/rabbitmq.ts';
import { codeOf, int32, open, request, str, StreamWire } from '../helpers/stream-wire.ts';
import { startStream, type StreamTestBroker } from '../helpers/stream.ts';

const rabbitPresent = hasProgram('rabbitmq', 'the RabbitMQ 3.10.8 side of the stream confirm cases');
let rabbit: RabbitMq | undefined;
let broker: StreamTestBroker | undefined;
const wires: StreamWire[] = [];
beforeAll(async () => {
  if (rabbitPresent) rabbit = await startRabbitMq({ stream: true });
}, 90_000);
afterAll(async () => {
  await rabbit?.stop();
});
afterEach(async () => {
  for (const w of wires.splice(0)) w.close();
  await broker?.stop();
  broker = undefined;
});

async function connected(port = broker!.port): Promise<StreamWire> {
  const wire = await StreamWire.connect(port);
  wires.push(wire);
  expect(await open(wire)).toBe(1);
  return wire;
}

/** The stream port of each broker a differential case runs against: Wharf, and RabbitMQ 3.10.8 when installed. */
async function targets(): Promise<Array<{ name: string; port: number }>> {
  broker = await startStream();
  return [{ name: 'wharf', port: broker.port }, ...(rabbit ? [{ name: 'rabbitmq', port: rabbit.streamPort }] : [])];
}

async function answered(wire: StreamWire, body: Buffer): Promise<number> {
  wire.send(body);
  return codeOf((await wire.frame())!);
}

/** Publish (version 1): each message an AMQP 1.0 data section holding `body`. */
function publish(publisherId: number, messages: Array<{ id: number; body: Buffer }>): Buffer {
  const parts: Buffer[] = [Buffer.from([0, 0x02, 0, 1, publisherId]), int32(messages.length)];
  for (const { id, body } of messages) {
    const head = Buffer.alloc(8 + 4 + 3 + 5);
    head.writeBigUInt64BE(BigInt(id), 0);
    head.writeInt32BE(3 + 5 + body.length, 8);
    head.set([0x00, 0x53, 0x75, 0xb0], 12);
    head.writeUInt32BE(body.length, 16);
    parts.push(head, body);
  }
  return Buffer.concat(parts);
}

const declarePublisher = (correlationId: number, publisherId: number, reference: string, stream: string) =>
  request(0x01, correlationId, Buffer.from([publisherId]), str(reference), str(stream));

/** Subscribe from first with `credit`. */
const subscribe = (correlationId: number, subscriptionId: number, stream: string, credit: number) =>
  request(0x07, correlationId, Buffer.from([subscriptionId]), str(stream), Buffer.from([0, 1, credit >> 8, credit & 0xff]), int32(0));

function credit(subscriptionId: number, credit: number): Buffer {
  const body = Buffer.from([0, 0x09, 0, 1, subscriptionId, 0, 0]);
  body.writeUInt16BE(credit, 5);
  return body;
}

const publishingIds = (confirm: Buffer): number[] => [...Array(confirm.readInt32BE(5)).keys()].map((i) => Number(confirm.readBigUInt64BE(9 + i * 8)));

/** Frames until none comes for `quietMs`. */
async function framesUntilQuiet(wire: StreamWire, quietMs = 300): Promise<Buffer[]> {
  const frames: Buffer[] = [];
  for (;;) {
    const frame = await wire.frame(quietMs).catch(() => undefined);
    if (!frame) return frames;
    frames.push(frame);
  }
}

/** A connection to `port` with a new stream (named after `prefix`) and a publisher on it. */
async function withPublisher(name: string, port: number, prefix: string, publisherId: number, reference: string): Promise<{ wire: StreamWire; stream: string }> {
  const wire = await connected(port);
  const stream = `${prefix}-${Date.now()}`;
  expect(await answered(wire, request(0x0d, 10, str(stream), int32(0))), name).toBe(1);
  expect(await answered(wire, declarePublisher(11, publisherId, reference, stream)), name).toBe(1);
  return { wire, stream };
}

/** The entry count and first offset of a Deliver frame's chunk. */
const chunkOf = (deliver: Buffer) => ({ entries: deliver.readUInt16BE(7), firstOffset: Number(deliver.readBigUInt64BE(29)) });

describe('stream protocol flow: confirms and credit', () => {
  it('confirms the Publish frames of one socket read in one PublishConfirm, once stored, as RabbitMQ 3.10.8 (one confirm per osiris write)', async () => {
    for (const { name, port } of await targets()) {
      const { wire, stream } = await withPublisher(name, port, 'confirmed', 7, '');
      const frames = [0, 1, 2, 3, 4].map((f) => publish(7, [0, 1, 2].map((i) => ({ id: f * 3 + i + 1, body: Buffer.from(`m${f * 3 + i + 1}`) }))));
      wire.sendTogether(...frames);
      const confirms = (await framesUntilQuiet(wire)).filter((f) => f.readUInt16BE(0) === 0x03);
      expect(confirms, name).toHaveLength(1);
      expect(confirms[0]![4], name).toBe(7);
      expect(publishingIds(confirms[0]!), name).toEqual([...Array(15).keys()].map((i) => i + 1));
      expect(await answered(wire, subscribe(12, 1, stream, 10)), name).toBe(1);
      const deliver = (await wire.frame())!;
      expect(deliver.readUInt16BE(0), name).toBe(0x08);
      expect(chunkOf(deliver), name).toEqual({ entries: 15, firstOffset: 0 });
    }
  }, 60_000);

  it('confirms a named publisher’s duplicates sent in the same read without storing them twice, as RabbitMQ 3.10.8', async () => {
    for (const { name, port } of await targets()) {
      const { wire, stream } = await withPublisher(name, port, 'deduplicated', 3, 'writer');
      const message = (id: number) => ({ id, body: Buffer.from(`m${id}`) });
      wire.sendTogether(publish(3, [message(1), message(2), message(3)]), publish(3, [message(2), message(3), message(4)]));
      const ids = (await framesUntilQuiet(wire)).filter((f) => f.readUInt16BE(0) === 0x03).flatMap(publishingIds);
      expect(ids.sort((a, b) => a - b), name).toEqual([1, 2, 2, 3, 3, 4]);
      expect(await answered(wire, subscribe(12, 1, stream, 10)), name).toBe(1);
      const delivered = (await framesUntilQuiet(wire)).filter((f) => f.readUInt16BE(0) === 0x08);
      expect(delivered.reduce((n, f) => n + chunkOf(f).entries, 0), name).toBe(4);
    }
  }, 60_000);

  it('sends one chunk per credit: the next only after the next Credit, then what arrived meanwhile', async () => {
    broker = await startStream();
    const wire = await connected();
    expect(await answered(wire, request(0x0d, 10, str('credited'), int32(0)))).toBe(1);
    expect(await answered(wire, declarePublisher(11, 1, '', 'credited'))).toBe(1);
    // Three 300 KB messages, one per read: chunks are cut near 512 KB, so they make two chunks.
    const big = Buffer.alloc(300 * 1024, 'b');
    for (let id = 1; id <= 3; id++) {
      wire.send(publish(1, [{ id, body: big }]));
      expect((await wire.frame())!.readUInt16BE(0)).toBe(0x03);
    }
    expect(await answered(wire, subscribe(12, 1, 'credited', 1))).toBe(1);
    const first = (await framesUntilQuiet(wire)).filter((f) => f.readUInt16BE(0) === 0x08);
    expect(first.map(chunkOf)).toEqual([{ entries: 2, firstOffset: 0 }]);
    wire.send(publish(1, [{ id: 4, body: Buffer.from('late') }]));
    const meanwhile = await framesUntilQuiet(wire);
    expect(meanwhile.map((f) => f.readUInt16BE(0))).toEqual([0x03]);
    wire.send(credit(1, 1));
    const second = (await framesUntilQuiet(wire)).filter((f) => f.readUInt16BE(0) === 0x08);
    expect(second.map(chunkOf)).toEqual([{ entries: 1, firstOffset: 2 }]);
    wire.send(credit(1, 5));
    const third = (await framesUntilQuiet(wire)).filter((f) => f.readUInt16BE(0) === 0x08);
    expect(third.map(chunkOf)).toEqual([{ entries: 1, firstOffset: 3 }]);
  });
});
