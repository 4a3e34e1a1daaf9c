import type { Socket } from 'node:net';
import { BrokerError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { LengthPrefixedFrames } from '../net/length-prefixed-frames.ts';
import type { Connection } from '../net/tcp-listener.ts';
import {
  decodeFetchRequest,
  decodeFrame,
  decodeHello,
  decodeMarkersRequest,
  decodeVerifyRequest,
  encodeFetchResponse,
  encodeHelloResponse,
  encodeMarkersResponse,
  encodeVerifyResponse,
  FrameKind,
  PROTOCOL_VERSION,
  type FetchRequest,
  type FetchResponse,
  type MarkersRequest,
  type MarkersResponse,
  type VerifyRequest,
  type VerifyResponse,
} from './replication-protocol.ts';

/** Requests are small (a list of partitions); anything bigger is not a follower. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export interface Peer {
  readonly nodeId: number;
  readonly brokerEpoch: number;
}

export interface ReplicationService {
  /** Why a broker claiming to be `peer` of `clusterId` may not fetch here, or undefined. */
  admit(clusterId: string, peer: Peer): Promise<{ error: ErrorCode; message: string } | undefined>;
  serveFetch(peer: Peer, request: FetchRequest): Promise<FetchResponse>;
  /** Writes transaction markers into the partitions led here, for a peer's transaction coordinator. */
  serveMarkers(peer: Peer, request: MarkersRequest): Promise<MarkersResponse>;
  /** Answers a peer partition leader whether partitions are in a transaction coordinated here. */
  serveVerify(peer: Peer, request: VerifyRequest): Promise<VerifyResponse>;
}

/**
 * The leader side of one peer's connection: a hello naming the cluster and the peer's registration,
 * then fetches (a follower), marker writes (a transaction coordinator) or transaction verifications (a partition leader) answered one at a time, in order. Anything else closes the connection
 * (logged), never the broker.
 */
export class ReplicationConnection implements Connection {
  private readonly frames = new LengthPrefixedFrames(MAX_REQUEST_BYTES);
  private peer: Peer | undefined;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly service: ReplicationService,
    private readonly logger: Logger,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.once('close', () => (this.closed = true));
  }

  async drain(): Promise<void> {
    this.socket.pause();
    await this.queue;
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.frames.push(chunk);
    } catch (err) {
      this.refuse(err);
      return;
    }
    for (const frame of frames) this.queue = this.queue.then(() => this.handle(frame)).catch((err: unknown) => this.refuse(err));
  }

  private async handle(bytes: Buffer): Promise<void> {
    if (this.closed) return;
    const frame = decodeFrame(bytes);
    if (frame.response) throw new BrokerError('MALFORMED_INPUT', 'a follower sent a response frame');
    if (frame.kind === FrameKind.hello) {
      const hello = decodeHello(frame.header);
      const refusal =
        hello.version !== PROTOCOL_VERSION
          ? { error: 'UNSUPPORTED_VERSION' as const, message: `replication protocol ${hello.version} is not ${PROTOCOL_VERSION}` }
          : await this.service.admit(hello.clusterId, { nodeId: hello.nodeId, brokerEpoch: hello.brokerEpoch });
      this.write(encodeHelloResponse(frame.correlationId, { error: refusal?.error ?? null, message: refusal?.message ?? null, nodeId: hello.nodeId }));
      if (refusal) {
        this.logger.warn({ peer: hello.nodeId, reason: refusal.message }, 'refused a replication peer');
        this.socket.end();
        this.closed = true;
        return;
      }
      this.peer = { nodeId: hello.nodeId, brokerEpoch: hello.brokerEpoch };
      return;
    }
    if (!this.peer) throw new BrokerError('MALFORMED_INPUT', 'request before hello');
    if (frame.kind === FrameKind.markers) {
      this.write(encodeMarkersResponse(frame.correlationId, await this.service.serveMarkers(this.peer, decodeMarkersRequest(frame.header))));
      return;
    }
    if (frame.kind === FrameKind.verify) {
      this.write(encodeVerifyResponse(frame.correlationId, await this.service.serveVerify(this.peer, decodeVerifyRequest(frame.header))));
      return;
    }
    const request = decodeFetchRequest(frame.header);
    if (request.replicaId !== this.peer.nodeId) throw new BrokerError('MALFORMED_INPUT', `replica ${request.replicaId} fetches on broker ${this.peer.nodeId}'s connection`);
    const response = await this.service.serveFetch({ nodeId: request.replicaId, brokerEpoch: request.brokerEpoch }, request);
    this.write(encodeFetchResponse(frame.correlationId, response));
  }

  private write(chunks: Buffer[]): void {
    if (this.closed) return;
    this.socket.cork();
    for (const chunk of chunks) this.socket.write(chunk);
    this.socket.uncork();
  }

  private refuse(err: unknown): void {
    if (this.closed) return;
    const clientFault = BrokerError.is(err) && (err.code === 'MALFORMED_INPUT' || err.code === 'FRAME_TOO_LARGE');
    if (clientFault) this.logger.warn({ reason: err.message, remote: this.socket.remoteAddress }, 'bad replication request; closing the connection');
    else this.logger.error({ err }, 'replication request failed; closing the connection');
    this.close();
  }
}
