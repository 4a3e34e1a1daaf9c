import net from 'node:net';
import { BrokerError } from '../errors.ts';
import { LengthPrefixedFrames } from '../net/length-prefixed-frames.ts';
import {
  decodeFetchResponse,
  decodeFrame,
  decodeHelloResponse,
  decodeMarkersResponse,
  decodeVerifyResponse,
  encodeFetchRequest,
  encodeHello,
  encodeMarkersRequest,
  encodeVerifyRequest,
  FrameKind,
  PROTOCOL_VERSION,
  type FetchRequest,
  type FetchResponse,
  type MarkersRequest,
  type MarkersResponse,
  type VerifyRequest,
  type VerifyResponse,
} from './replication-protocol.ts';

const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** One connection to a peer's replication listener: a hello, then one request at a time (fetches, marker writes, transaction verifications). */
export class PeerConnection {
  private readonly frames = new LengthPrefixedFrames(MAX_RESPONSE_BYTES);
  private pending: { resolve: (frame: ReturnType<typeof decodeFrame>) => void; reject: (err: Error) => void; timer: NodeJS.Timeout } | undefined;
  private correlationId = 0;
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new BrokerError('STORAGE_IO', 'replication connection closed')));
  }

  static open(host: string, port: number, localAddress?: string): Promise<PeerConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, localAddress, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new BrokerError('TIMEOUT', `connecting to ${host}:${port} timed out`));
      }, 5000);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', reject);
        resolve(new PeerConnection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  get open(): boolean {
    return !this.closed;
  }

  async hello(clusterId: string, nodeId: number, brokerEpoch: number): Promise<void> {
    const frame = await this.call(encodeHello(++this.correlationId, { version: PROTOCOL_VERSION, clusterId, nodeId, brokerEpoch }), 10_000);
    if (frame.kind !== FrameKind.hello) throw new BrokerError('MALFORMED_INPUT', 'expected a hello response');
    const answer = decodeHelloResponse(frame.header);
    if (answer.error !== null) throw new BrokerError(answer.error, `the leader refused this replica: ${answer.message ?? answer.error}`);
  }

  async fetch(request: FetchRequest, timeoutMs: number): Promise<FetchResponse> {
    const frame = await this.call(encodeFetchRequest(++this.correlationId, request), timeoutMs);
    if (frame.kind !== FrameKind.fetch) throw new BrokerError('MALFORMED_INPUT', 'expected a fetch response');
    return decodeFetchResponse(frame.header, frame.payload);
  }

  async markers(request: MarkersRequest, timeoutMs: number): Promise<MarkersResponse> {
    const frame = await this.call(encodeMarkersRequest(++this.correlationId, request), timeoutMs);
    if (frame.kind !== FrameKind.markers) throw new BrokerError('MALFORMED_INPUT', 'expected a markers response');
    const response = decodeMarkersResponse(frame.header);
    if (response.errors.length !== request.partitions.length) throw new BrokerError('MALFORMED_INPUT', 'markers response does not match the request');
    return response;
  }

  async verify(request: VerifyRequest, timeoutMs: number): Promise<VerifyResponse> {
    const frame = await this.call(encodeVerifyRequest(++this.correlationId, request), timeoutMs);
    if (frame.kind !== FrameKind.verify) throw new BrokerError('MALFORMED_INPUT', 'expected a verify response');
    const response = decodeVerifyResponse(frame.header);
    if (response.errors.length !== request.partitions.length) throw new BrokerError('MALFORMED_INPUT', 'verify response does not match the request');
    return response;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }

  private call(chunks: Buffer[], timeoutMs: number): Promise<ReturnType<typeof decodeFrame>> {
    if (this.closed) return Promise.reject(new BrokerError('STORAGE_IO', 'replication connection closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new BrokerError('TIMEOUT', `no replication response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
      this.socket.cork();
      for (const chunk of chunks) this.socket.write(chunk);
      this.socket.uncork();
    });
  }

  private onData(chunk: Buffer): void {
    try {
      for (const bytes of this.frames.push(chunk)) {
        const frame = decodeFrame(bytes);
        const pending = this.pending;
        if (!pending || !frame.response || frame.correlationId !== this.correlationId) throw new BrokerError('MALFORMED_INPUT', 'unexpected replication response');
        this.pending = undefined;
        clearTimeout(pending.timer);
        pending.resolve(frame);
      }
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private fail(err: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) {
      clearTimeout(pending.timer);
      pending.reject(err);
    }
    this.close();
  }
}
