import { pack, unpack } from 'msgpackr';
import { malformed, type ErrorCode } from '../errors.ts';

/**
 * The internal replication protocol between brokers, over length-prefixed frames:
 * `[kind u8][correlationId u32][header length u32][msgpack header][payload]`. The payload of a fetch
 * response is the stored record batches of every partition, back to back, written from the leader's
 * log views and appended by the follower as they are; the header says how many bytes each owns.
 * A response echoes its request's kind with the high bit set. Pure functions: no I/O.
 */
export const FrameKind = { hello: 1, fetch: 2, markers: 3, verify: 4 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];
const RESPONSE_BIT = 0x80;
const PREFIX_BYTES = 9;
export const PROTOCOL_VERSION = 1;

export interface HelloRequest {
  readonly version: number;
  readonly clusterId: string;
  readonly nodeId: number;
  readonly brokerEpoch: number;
}

export interface HelloResponse {
  readonly error: ErrorCode | null;
  readonly message: string | null;
  readonly nodeId: number;
}

export interface FetchPartition {
  readonly topic: string;
  readonly partition: number;
  /** The leader epoch the follower believes current. */
  readonly leaderEpoch: number;
  readonly fetchOffset: number;
  /** The epoch of the follower's last batch (-1 if none): divergence is checked against it. */
  readonly lastFetchedEpoch: number;
}

export interface FetchRequest {
  readonly replicaId: number;
  readonly brokerEpoch: number;
  readonly maxWaitMs: number;
  readonly maxBytes: number;
  readonly partitions: readonly FetchPartition[];
}

export interface FetchedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly error: ErrorCode | null;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  /** When the follower's log diverges: the largest epoch the leader has at or below the follower's, and where it ends. */
  readonly diverging: { readonly epoch: number; readonly endOffset: number } | null;
  readonly records: Buffer;
}

export interface FetchResponse {
  readonly partitions: readonly FetchedPartition[];
}

/**
 * Transaction markers a transaction coordinator asks a partition's leader to write (Kafka's
 * WriteTxnMarkers between brokers): one producer's commit or abort in each named partition.
 */
export interface MarkersRequest {
  readonly producerId: number;
  readonly producerEpoch: number;
  /** The coordinator's epoch (the leader epoch of its transaction log partition). */
  readonly coordinatorEpoch: number;
  readonly commit: boolean;
  readonly partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
}

/** Per partition of the request, in its order: null once the marker is committed, else why not. */
export interface MarkersResponse {
  readonly errors: ReadonlyArray<ErrorCode | null>;
}

/**
 * A partition leader asks a transaction coordinator whether the partitions are in the producer's
 * ongoing transaction before it appends the producer's first transactional batch there (Kafka's
 * AddPartitionsToTxn with verify_only, KIP-890).
 */
export interface VerifyRequest {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
}

/** Per partition of the request, in its order: the coordinating protocol's own code, 0 when the transaction holds it. */
export interface VerifyResponse {
  readonly errors: readonly number[];
}

export interface Frame {
  readonly kind: FrameKind;
  readonly response: boolean;
  readonly correlationId: number;
  readonly header: unknown;
  readonly payload: Buffer;
}

/** A frame's bytes, size prefix included, as chunks to write (payload chunks are not copied). */
export function encodeFrame(kind: FrameKind, response: boolean, correlationId: number, header: unknown, payload: readonly Buffer[] = []): Buffer[] {
  const headerBytes = pack(header);
  let payloadBytes = 0;
  for (const chunk of payload) payloadBytes += chunk.length;
  const prefix = Buffer.allocUnsafe(4 + PREFIX_BYTES);
  prefix.writeInt32BE(PREFIX_BYTES + headerBytes.length + payloadBytes, 0);
  prefix.writeUInt8(kind | (response ? RESPONSE_BIT : 0), 4);
  prefix.writeUInt32BE(correlationId >>> 0, 5);
  prefix.writeUInt32BE(headerBytes.length, 9);
  return [prefix, headerBytes, ...payload];
}

/** Splits a frame (without its size prefix); MALFORMED_INPUT for anything that is not one. */
export function decodeFrame(frame: Buffer): Frame {
  if (frame.length < PREFIX_BYTES) throw malformed(`replication frame of ${frame.length} bytes is too short`);
  const kindByte = frame.readUInt8(0);
  const kind = (kindByte & ~RESPONSE_BIT) as FrameKind;
  if (kind !== FrameKind.hello && kind !== FrameKind.fetch && kind !== FrameKind.markers && kind !== FrameKind.verify) throw malformed(`unknown replication frame kind ${kindByte}`);
  const headerLength = frame.readUInt32BE(5);
  if (headerLength > frame.length - PREFIX_BYTES) throw malformed('replication frame header overruns the frame');
  let header: unknown;
  try {
    header = unpack(frame.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength));
  } catch (err) {
    throw malformed('replication frame header is not msgpack', err);
  }
  return { kind, response: (kindByte & RESPONSE_BIT) !== 0, correlationId: frame.readUInt32BE(1), header, payload: frame.subarray(PREFIX_BYTES + headerLength) };
}

export function encodeFetchRequest(correlationId: number, request: FetchRequest): Buffer[] {
  return encodeFrame(FrameKind.fetch, false, correlationId, {
    r: request.replicaId,
    e: request.brokerEpoch,
    w: request.maxWaitMs,
    b: request.maxBytes,
    p: request.partitions.map((p) => [p.topic, p.partition, p.leaderEpoch, p.fetchOffset, p.lastFetchedEpoch]),
  });
}

export function decodeFetchRequest(header: unknown): FetchRequest {
  const h = record(header, 'fetch request');
  const partitions = list(h.p, 'fetch partitions').map((entry) => {
    const p = list(entry, 'fetch partition');
    if (p.length !== 5) throw malformed('fetch partition has the wrong arity');
    return { topic: text(p[0], 'topic'), partition: int(p[1], 'partition'), leaderEpoch: int(p[2], 'leaderEpoch'), fetchOffset: int(p[3], 'fetchOffset'), lastFetchedEpoch: int(p[4], 'lastFetchedEpoch') };
  });
  return { replicaId: int(h.r, 'replicaId'), brokerEpoch: int(h.e, 'brokerEpoch'), maxWaitMs: int(h.w, 'maxWaitMs'), maxBytes: int(h.b, 'maxBytes'), partitions };
}

export function encodeFetchResponse(correlationId: number, response: FetchResponse): Buffer[] {
  const header = {
    p: response.partitions.map((p) => [p.topic, p.partition, p.error, p.highWatermark, p.logStartOffset, p.diverging?.epoch ?? -1, p.diverging?.endOffset ?? -1, p.records.length]),
  };
  return encodeFrame(FrameKind.fetch, true, correlationId, header, response.partitions.map((p) => p.records));
}

export function decodeFetchResponse(header: unknown, payload: Buffer): FetchResponse {
  const h = record(header, 'fetch response');
  let pos = 0;
  const partitions = list(h.p, 'fetched partitions').map((entry): FetchedPartition => {
    const p = list(entry, 'fetched partition');
    if (p.length !== 8) throw malformed('fetched partition has the wrong arity');
    const length = int(p[7], 'records length');
    if (length < 0 || pos + length > payload.length) throw malformed('fetched records overrun the payload');
    const records = payload.subarray(pos, pos + length);
    pos += length;
    const divergingEpoch = int(p[5], 'diverging epoch');
    return {
      topic: text(p[0], 'topic'),
      partition: int(p[1], 'partition'),
      error: p[2] === null ? null : (text(p[2], 'error') as ErrorCode),
      highWatermark: int(p[3], 'highWatermark'),
      logStartOffset: int(p[4], 'logStartOffset'),
      diverging: divergingEpoch >= 0 ? { epoch: divergingEpoch, endOffset: int(p[6], 'diverging end offset') } : null,
      records,
    };
  });
  if (pos !== payload.length) throw malformed('fetch response payload has bytes no partition owns');
  return { partitions };
}

export function encodeHello(correlationId: number, hello: HelloRequest): Buffer[] {
  return encodeFrame(FrameKind.hello, false, correlationId, { v: hello.version, c: hello.clusterId, n: hello.nodeId, e: hello.brokerEpoch });
}

export function decodeHello(header: unknown): HelloRequest {
  const h = record(header, 'hello');
  return { version: int(h.v, 'version'), clusterId: text(h.c, 'clusterId'), nodeId: int(h.n, 'nodeId'), brokerEpoch: int(h.e, 'brokerEpoch') };
}

export function encodeHelloResponse(correlationId: number, response: HelloResponse): Buffer[] {
  return encodeFrame(FrameKind.hello, true, correlationId, { x: response.error, m: response.message, n: response.nodeId });
}

export function decodeHelloResponse(header: unknown): HelloResponse {
  const h = record(header, 'hello response');
  return { error: h.x === null ? null : (text(h.x, 'error') as ErrorCode), message: h.m === null ? null : text(h.m, 'message'), nodeId: int(h.n, 'nodeId') };
}

export function encodeMarkersRequest(correlationId: number, request: MarkersRequest): Buffer[] {
  return encodeFrame(FrameKind.markers, false, correlationId, {
    i: request.producerId,
    e: request.producerEpoch,
    c: request.coordinatorEpoch,
    k: request.commit,
    p: partitionPairs(request.partitions),
  });
}

export function decodeMarkersRequest(header: unknown): MarkersRequest {
  const h = record(header, 'markers request');
  if (typeof h.k !== 'boolean') throw malformed('markers commit flag is not a boolean');
  const partitions = topicPartitions(h.p, 'marker');
  return { producerId: int(h.i, 'producerId'), producerEpoch: int(h.e, 'producerEpoch'), coordinatorEpoch: int(h.c, 'coordinatorEpoch'), commit: h.k, partitions };
}

export function encodeMarkersResponse(correlationId: number, response: MarkersResponse): Buffer[] {
  return encodeFrame(FrameKind.markers, true, correlationId, { x: response.errors });
}

export function decodeMarkersResponse(header: unknown): MarkersResponse {
  const h = record(header, 'markers response');
  return { errors: list(h.x, 'marker errors').map((e) => (e === null ? null : (text(e, 'marker error') as ErrorCode))) };
}

export function encodeVerifyRequest(correlationId: number, request: VerifyRequest): Buffer[] {
  return encodeFrame(FrameKind.verify, false, correlationId, {
    t: request.transactionalId,
    i: request.producerId,
    e: request.producerEpoch,
    p: partitionPairs(request.partitions),
  });
}

export function decodeVerifyRequest(header: unknown): VerifyRequest {
  const h = record(header, 'verify request');
  return { transactionalId: text(h.t, 'transactionalId'), producerId: int(h.i, 'producerId'), producerEpoch: int(h.e, 'producerEpoch'), partitions: topicPartitions(h.p, 'verify') };
}

export function encodeVerifyResponse(correlationId: number, response: VerifyResponse): Buffer[] {
  return encodeFrame(FrameKind.verify, true, correlationId, { x: response.errors });
}

export function decodeVerifyResponse(header: unknown): VerifyResponse {
  const h = record(header, 'verify response');
  return { errors: list(h.x, 'verify errors').map((e) => int(e, 'verify error')) };
}

const partitionPairs = (partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>): Array<[string, number]> => partitions.map((p) => [p.topic, p.partition]);

function topicPartitions(value: unknown, what: string): Array<{ topic: string; partition: number }> {
  return list(value, `${what} partitions`).map((entry) => {
    const p = list(entry, `${what} partition`);
    if (p.length !== 2) throw malformed(`${what} partition has the wrong arity`);
    return { topic: text(p[0], 'topic'), partition: int(p[1], 'partition') };
  });
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw malformed(`${what} is not a map`);
  return value as Record<string, unknown>;
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw malformed(`${what} is not a list`);
  return value;
}

function int(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw malformed(`${what} is not an integer`);
  return value;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw malformed(`${what} is not a string`);
  return value;
}
