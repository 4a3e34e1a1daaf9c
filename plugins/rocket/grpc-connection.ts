import type { Socket } from 'node:net';
import type { ClientDescription, Connection, Logger } from '../../core/index.ts';

/** What every HTTP/2 client sends first (RFC 9113 §3.4). */
const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** Where a socket goes once it has shown it speaks HTTP/2: grpc-js's connection injector. */
export interface Http2Injector {
  injectConnection(socket: Socket): void;
}

/**
 * One socket of the gRPC port until it has sent the HTTP/2 client preface: one that does not within
 * `handshakeTimeoutMs`, or sends something else, is closed; one that does is handed to grpc-js with the
 * bytes read so far put back. From then on grpc-js runs the connection (idle timeout, keepalive).
 */
export class GrpcConnection implements Connection {
  private received: Buffer | undefined;
  private injected = false;
  private readonly handshakeTimer: NodeJS.Timeout;
  private readonly closed: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly injector: Http2Injector,
    handshakeTimeoutMs: number,
    private readonly logger: Logger,
    /** What the broker knows of the client whose calls come from `address:port`. */
    private readonly describeClient: (peer: string) => ClientDescription = () => ({}),
  ) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    this.handshakeTimer = setTimeout(() => this.refuse('no HTTP/2 preface in time'), handshakeTimeoutMs);
    socket.once('close', () => clearTimeout(this.handshakeTimer));
    socket.on('data', this.onData);
  }

  /** Resolves once grpc-js (shutting down) or the client has closed the socket; at once before the handover. */
  drain(): Promise<void> {
    return this.injected ? this.closed : Promise.resolve();
  }

  close(): void {
    this.socket.destroy();
  }

  describe(): ClientDescription {
    return this.describeClient(`${this.socket.remoteAddress}:${this.socket.remotePort}`);
  }

  private readonly onData = (chunk: Buffer): void => {
    const received = this.received ? Buffer.concat([this.received, chunk]) : chunk;
    const compared = Math.min(received.length, CLIENT_PREFACE.length);
    if (!received.subarray(0, compared).equals(CLIENT_PREFACE.subarray(0, compared))) return this.refuse('not an HTTP/2 client preface');
    if (received.length < CLIENT_PREFACE.length) {
      this.received = received;
      return;
    }
    clearTimeout(this.handshakeTimer);
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.unshift(received);
    this.received = undefined;
    this.injected = true;
    this.injector.injectConnection(this.socket);
  };

  private refuse(reason: string): void {
    this.logger.debug({ reason, remote: this.socket.remoteAddress }, 'closing a gRPC connection');
    this.socket.destroy();
  }
}
