import net from 'node:net';
import { decodeRecords, LengthPrefixedFrames, RecordBatch } from '../../core/index.ts';
import {
  ApiKeys,
  decodeResponse,
  defaultFetchRequest,
  defaultFetchRequestFetchPartition,
  defaultFetchRequestFetchTopic,
  encodeRequest,
  type ApiCodec,
} from '../../plugins/kafka/codec/index.ts';

/** A bare Kafka-protocol socket for tests that need exact control over what is sent. */
export class KafkaWire {
  private readonly frames = new LengthPrefixedFrames(64 * 1024 * 1024);
  private readonly waiting: Array<(frame: Buffer) => void> = [];
  private readonly received: Buffer[] = [];
  private correlationId = 0;
  closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.frames.push(chunk)) {
        const waiter = this.waiting.shift();
        if (waiter) waiter(frame);
        else this.received.push(frame);
      }
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<KafkaWire> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => resolve(new KafkaWire(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: Buffer | readonly Buffer[]): void {
    for (const b of Buffer.isBuffer(bytes) ? [bytes] : bytes) this.socket.write(b);
  }

  nextFrame(): Promise<Buffer> {
    const ready = this.received.shift();
    return ready ? Promise.resolve(ready) : new Promise((resolve) => this.waiting.push(resolve));
  }

  async request<Req, Res>(api: ApiCodec<Req, Res>, version: number, body: Req): Promise<Res> {
    this.send(this.encode(api, version, body));
    return this.response(api, version);
  }

  /** A request's bytes with the next correlation id, to send later (e.g. into a paused broker's socket). */
  encode<Req, Res>(api: ApiCodec<Req, Res>, version: number, body: Req): Buffer[] {
    return [encodeRequest(api, version, ++this.correlationId, 'wire-test', body)].flat();
  }

  /** The next response frame, decoded as `api` at `version`. */
  async response<Req, Res>(api: ApiCodec<Req, Res>, version: number): Promise<Res> {
    return decodeResponse(api, version, await this.nextFrame()).body;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The values of partition 0 of `topic` from offset 0 (up to 1 MiB), read with one Fetch: no consumer group. */
export async function fetchValues(port: number, topic: string): Promise<string[]> {
  const wire = await KafkaWire.connect(port);
  try {
    const partition = { ...defaultFetchRequestFetchPartition(), partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 };
    const request = { ...defaultFetchRequest(), maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, topics: [{ ...defaultFetchRequestFetchTopic(), topic, partitions: [partition] }] };
    const response = await wire.request(ApiKeys.Fetch, 11, request);
    const records = response.responses[0]!.partitions[0]!.records as Buffer;
    const values: string[] = [];
    for (let pos = 0; pos < records.length; pos += new RecordBatch(records, pos).sizeInBytes) {
      for (const record of decodeRecords(new RecordBatch(records, pos).bytes)) values.push(record.value!.toString());
    }
    return values;
  } finally {
    wire.close();
  }
}
