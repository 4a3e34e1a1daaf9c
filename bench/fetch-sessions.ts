/**
 * What KIP-227 fetch sessions save on the wire: a consumer of 1,000 idle partitions (10 topics × 100),
 * one Fetch request and response each way, at v11 (topic names, not flexible), v12 (flexible) and v17
 * (topic ids): a full fetch (every partition named, every partition answered) against an incremental
 * fetch of the same session (nothing named, nothing changed: nothing answered). Bytes, not time: the
 * figures do not depend on the machine.
 */
import net from 'node:net';
import { createBroker, LengthPrefixedFrames } from '../core/index.ts';
import { ApiKeys, decodeResponse, defaultFetchRequest, defaultFetchRequestFetchPartition, defaultFetchRequestFetchTopic, defaultMetadataRequest, encodeRequest, type ApiCodec, type FetchRequest } from '../plugins/kafka/codec/index.ts';
import { kafka } from '../plugins/kafka/index.ts';
import { memoryStorage } from '../plugins/storage-memory/index.ts';
import { fmt, printTable } from './harness.ts';

const TOPICS = 10;
const PARTITIONS = 100;

/** One request on a socket: its size on the wire, and the response's size and body. */
class Wire {
  private readonly frames = new LengthPrefixedFrames(64 * 1024 * 1024);
  private waiting: ((frame: Buffer) => void) | undefined;
  private correlationId = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.frames.push(chunk)) this.waiting?.(frame);
    });
  }

  static connect(port: number): Promise<Wire> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new Wire(socket)));
    });
  }

  async request<Req, Res>(api: ApiCodec<Req, Res>, version: number, body: Req): Promise<{ requestBytes: number; responseBytes: number; body: Res }> {
    const chunks = [encodeRequest(api, version, ++this.correlationId, 'bench', body)].flat();
    const frame = new Promise<Buffer>((resolve) => (this.waiting = resolve));
    for (const c of chunks) this.socket.write(c);
    const response = await frame;
    return { requestBytes: chunks.reduce((n, c) => n + c.length, 0), responseBytes: response.length + 4, body: decodeResponse(api, version, response).body };
  }

  close(): void {
    this.socket.destroy();
  }
}

const broker = await createBroker({
  plugins: [memoryStorage(), kafka()],
  config: { logLevel: 'error', host: '127.0.0.1', kafka: { port: 'auto' } },
});
await broker.start();
const port = broker.listeners().find((l) => l.protocol === 'kafka')!.port;
const wire = await Wire.connect(port);
const names = Array.from({ length: TOPICS }, (_, i) => `idle-${i}`);
await wire.request(ApiKeys.CreateTopics, 4, { topics: names.map((name) => ({ name, numPartitions: PARTITIONS, replicationFactor: -1, assignments: [], configs: [] })), timeoutMs: 30_000, validateOnly: false });
const metadata = await wire.request(ApiKeys.Metadata, 12, { ...defaultMetadataRequest(), topics: names.map((name) => ({ name, topicId: Buffer.alloc(16) })) });
const ids = new Map(metadata.body.topics.map((t) => [t.name!, t.topicId]));

const fetch = (sessionId: number, sessionEpoch: number, named: boolean): FetchRequest => ({
  ...defaultFetchRequest(),
  maxWaitMs: 0,
  minBytes: 0,
  maxBytes: 50 * 1024 * 1024,
  isolationLevel: 0,
  sessionId,
  sessionEpoch,
  topics: named
    ? names.map((topic) => ({
        ...defaultFetchRequestFetchTopic(),
        topic,
        topicId: ids.get(topic)!,
        partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({ ...defaultFetchRequestFetchPartition(), partition, fetchOffset: 0, partitionMaxBytes: 1024 * 1024 })),
      }))
    : [],
});

const rows: string[][] = [];
for (const version of [11, 12, 17]) {
  const full = await wire.request(ApiKeys.Fetch, version, fetch(0, 0, true));
  const answered = full.body.responses.reduce((n, t) => n + t.partitions.length, 0);
  const incremental = await wire.request(ApiKeys.Fetch, version, fetch(full.body.sessionId, 1, false));
  const incrementalAnswered = incremental.body.responses.reduce((n, t) => n + t.partitions.length, 0);
  if (full.body.sessionId === 0 || incremental.body.errorCode !== 0) throw new Error(`v${version}: no session (${incremental.body.errorCode})`);
  rows.push([
    `v${version}`,
    `${fmt(full.requestBytes)} B`,
    `${fmt(full.responseBytes)} B (${answered} partitions)`,
    `${fmt(incremental.requestBytes)} B`,
    `${fmt(incremental.responseBytes)} B (${incrementalAnswered} partitions)`,
    `${(full.requestBytes / incremental.requestBytes).toFixed(0)}× / ${(full.responseBytes / incremental.responseBytes).toFixed(0)}×`,
  ]);
  // Close the session so the next version opens its own.
  await wire.request(ApiKeys.Fetch, version, fetch(full.body.sessionId, -1, false));
}
printTable(
  `Fetch sessions: ${TOPICS * PARTITIONS} idle partitions (${TOPICS} topics × ${PARTITIONS}), one request and response each`,
  ['version', 'full request', 'full response', 'incremental request', 'incremental response', 'saved (req / resp)'],
  rows,
);
wire.close();
await broker.stop();
