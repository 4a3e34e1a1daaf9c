/**
 * The reference for bench/kafka: the least a Kafka broker must do, in a plain Node socket server.
 *   sink: parses Produce requests by hand, checks each batch's CRC-32C, appends it to one file, answers.
 *   fetch: serves Fetch from that file's batches with readSync, nothing else.
 * Usage: node --import tsx bench/workers/kafka-reference-server.ts <sink|fetch> <file> ; prints "port <n>".
 */
import fs from 'node:fs';
import net from 'node:net';
import { crc32c, readInt64, setBaseOffset } from '../../core/index.ts';
import { ApiKeys, decodeRequest, encodeResponse, parseRequestHeader } from '../../plugins/kafka/codec/index.ts';

const [mode, file] = process.argv.slice(2) as ['sink' | 'fetch', string];
const TOPIC = 'bench';
const fd = fs.openSync(file, mode === 'sink' ? 'w' : 'r');
let position = 0;
let nextOffset = 0;
const batchPositions: number[] = [];
const batchOffsets: number[] = [];
if (mode === 'fetch') indexFile();

function indexFile(): void {
  const size = fs.fstatSync(fd).size;
  const header = Buffer.alloc(61);
  for (let at = 0; at + 61 <= size; ) {
    fs.readSync(fd, header, 0, 61, at);
    batchPositions.push(at);
    batchOffsets.push(readInt64(header, 0));
    nextOffset = readInt64(header, 0) + header.readInt32BE(23) + 1;
    at += 12 + header.readInt32BE(8);
  }
  position = size;
}

function produce(frame: Buffer, bodyOffset: number, version: number, correlationId: number): Buffer[] | undefined {
  let at = bodyOffset;
  const txLength = frame.readInt16BE(at);
  at += 2 + Math.max(0, txLength);
  const acks = frame.readInt16BE(at);
  at += 6 + 4;
  const nameLength = frame.readInt16BE(at);
  at += 2 + nameLength + 4;
  const partition = frame.readInt32BE(at);
  const size = frame.readInt32BE(at + 4);
  const batch = frame.subarray(at + 8, at + 8 + size);
  if (crc32c(batch, 21, batch.length) !== batch.readUInt32BE(17)) throw new Error('bad CRC');
  const baseOffset = nextOffset;
  setBaseOffset(batch, 0, baseOffset);
  nextOffset += batch.readInt32BE(23) + 1;
  fs.writeSync(fd, batch, 0, batch.length, position);
  position += batch.length;
  if (acks === 0) return undefined;
  return encodeResponse(ApiKeys.Produce, version, correlationId, {
    responses: [{ name: TOPIC, partitionResponses: [{ index: partition, errorCode: 0, baseOffset, logAppendTimeMs: -1, logStartOffset: 0, recordErrors: [], errorMessage: null, currentLeader: null }] }],
    throttleTimeMs: 0,
    nodeEndpoints: [],
  });
}

function fetchBatches(offset: number, maxBytes: number): Buffer {
  let lo = 0;
  let hi = batchOffsets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (batchOffsets[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  if (batchOffsets.length === 0 || offset >= nextOffset) return Buffer.alloc(0);
  const start = batchPositions[lo]!;
  let end = start;
  for (let i = lo; i < batchPositions.length; i++) {
    const batchEnd = i + 1 < batchPositions.length ? batchPositions[i + 1]! : position;
    if (end > start && batchEnd - start > maxBytes) break;
    end = batchEnd;
  }
  const out = Buffer.allocUnsafe(end - start);
  fs.readSync(fd, out, 0, out.length, start);
  return out;
}

const API_VERSIONS = [
  { apiKey: 0, minVersion: 3, maxVersion: 7 },
  { apiKey: 1, minVersion: 4, maxVersion: 11 },
  { apiKey: 2, minVersion: 1, maxVersion: 2 },
  { apiKey: 3, minVersion: 0, maxVersion: 4 },
  { apiKey: 18, minVersion: 0, maxVersion: 3 },
];

function handle(frame: Buffer, port: number): Buffer[] | undefined {
  const header = parseRequestHeader(frame);
  const { apiKey, apiVersion: v, correlationId } = header;
  if (apiKey === 0) return produce(frame, header.bodyOffset, v, correlationId);
  if (apiKey === 18) {
    return encodeResponse(ApiKeys.ApiVersions, v, correlationId, { errorCode: 0, apiKeys: API_VERSIONS, throttleTimeMs: 0, supportedFeatures: [], finalizedFeaturesEpoch: -1, finalizedFeatures: [], zkMigrationReady: false });
  }
  if (apiKey === 3) {
    return encodeResponse(ApiKeys.Metadata, v, correlationId, {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }],
      clusterId: 'reference',
      controllerId: 1,
      topics: [{ errorCode: 0, name: TOPIC, topicId: Buffer.alloc(16), isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }], topicAuthorizedOperations: 0 }],
      clusterAuthorizedOperations: 0,
    });
  }
  if (apiKey === 2) {
    const request = decodeRequest(header, frame) as { topics: Array<{ partitions: Array<{ partitionIndex: number; timestamp: number }> }> };
    const p = request.topics[0]!.partitions[0]!;
    return encodeResponse(ApiKeys.ListOffsets, v, correlationId, {
      throttleTimeMs: 0,
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: p.partitionIndex, errorCode: 0, oldStyleOffsets: [], timestamp: -1, offset: p.timestamp === -2 ? 0 : nextOffset, leaderEpoch: 0 }] }],
    });
  }
  if (apiKey === 1) {
    const request = decodeRequest(header, frame) as { topics: Array<{ partitions: Array<{ partition: number; fetchOffset: number; partitionMaxBytes: number }> }> };
    const p = request.topics[0]!.partitions[0]!;
    return encodeResponse(ApiKeys.Fetch, v, correlationId, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [{ topic: TOPIC, topicId: Buffer.alloc(16), partitions: [{ partitionIndex: p.partition, errorCode: 0, highWatermark: nextOffset, lastStableOffset: nextOffset, logStartOffset: 0, divergingEpoch: null, currentLeader: null, snapshotId: null, abortedTransactions: [], preferredReadReplica: -1, records: fetchBatches(p.fetchOffset, p.partitionMaxBytes) }] }],
      nodeEndpoints: [],
    });
  }
  throw new Error(`reference server does not speak api ${apiKey}`);
}

/**
 * Requests by their int32 size prefix: a request inside one socket read is a view of it, one spanning
 * reads is copied once into a buffer of its declared size. The least work; no memory bound.
 */
class ExactFrames {
  private partial: Buffer | undefined;
  private filled = 0;
  private header = Buffer.alloc(4);
  private headerFilled = 0;

  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.partial) {
        const n = chunk.copy(this.partial, this.filled, pos, pos + this.partial.length - this.filled);
        this.filled += n;
        pos += n;
        if (this.filled === this.partial.length) {
          frames.push(this.partial);
          this.partial = undefined;
        }
      } else if (this.headerFilled > 0 || chunk.length - pos < 4) {
        const n = chunk.copy(this.header, this.headerFilled, pos, pos + 4 - this.headerFilled);
        this.headerFilled += n;
        pos += n;
        if (this.headerFilled < 4) break;
        this.headerFilled = 0;
        this.partial = Buffer.allocUnsafe(this.header.readInt32BE(0));
        this.filled = 0;
      } else {
        const size = chunk.readInt32BE(pos);
        pos += 4;
        if (chunk.length - pos >= size) {
          frames.push(chunk.subarray(pos, pos + size));
          pos += size;
        } else {
          this.partial = Buffer.allocUnsafe(size);
          this.filled = 0;
        }
      }
    }
    return frames;
  }
}

const server = net.createServer({ noDelay: true }, (socket) => {
  const frames = new ExactFrames();
  socket.on('data', (chunk: Buffer) => {
    socket.cork();
    for (const frame of frames.push(chunk)) {
      const reply = handle(frame, (server.address() as net.AddressInfo).port);
      if (reply) for (const c of reply) socket.write(c);
    }
    socket.uncork();
  });
  socket.on('error', () => undefined);
});
server.listen(0, '127.0.0.1', () => console.log(`port ${(server.address() as net.AddressInfo).port}`));
process.on('SIGTERM', () => {
  fs.fsyncSync(fd);
  process.exit(0);
});
