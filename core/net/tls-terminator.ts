import type { X509Certificate } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../logging.ts';
import type { TlsCredentials } from './tls-credentials.ts';

/** The first byte of a TLS record that carries a handshake message: a ClientHello starts with it. */
const TLS_HANDSHAKE_RECORD = 0x16;

export interface ListenerTls {
  credentials: TlsCredentials;
  /**
   * `tls`: every connection is TLS. `detect`: TLS and plaintext share the port, told apart by the first
   * byte the client sends (0x16 begins a TLS handshake), as RocketMQ's proxy does in its permissive mode.
   */
  mode: 'tls' | 'detect';
  /** Application protocols offered in ALPN (HTTP/2 clients such as gRPC insist on `h2`). */
  alpn?: string[];
}

/**
 * TLS for one listener: runs the server side of the handshake on accepted TCP sockets with the
 * credentials in use (a reload applies to handshakes that start later), within the handshake timeout,
 * and verifies client certificates as `--tls-client-auth` says: `require` refuses a client without a
 * valid one, `request` refuses only a certificate that does not verify. A socket that fails is
 * destroyed; one that succeeds goes to `secured`.
 */
export class TlsTerminator {
  /** A TLS server that never listens: sockets are handed to it (its documented `connection` event). */
  private readonly engine: tls.Server;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly options: ListenerTls,
    secured: (socket: tls.TLSSocket) => void,
    private readonly logger: Logger,
  ) {
    const { credentials } = options;
    const requestCert = credentials.clientAuth !== 'none';
    this.engine = tls.createServer({
      ...credentials.material,
      requestCert,
      rejectUnauthorized: credentials.clientAuth === 'require',
      handshakeTimeout: credentials.handshakeTimeoutMs,
      ...(options.alpn ? { ALPNProtocols: options.alpn } : {}),
    });
    this.engine.on('secureConnection', (socket: tls.TLSSocket) => {
      if (requestCert && !socket.authorized && socket.getPeerX509Certificate() !== undefined) {
        this.refuse(socket, `client certificate not accepted: ${socket.authorizationError}`);
        return;
      }
      secured(socket);
    });
    this.engine.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => this.refuse(socket, err.code ?? err.message));
    this.unsubscribe = credentials.onReload((material) => this.engine.setSecureContext(material));
  }

  /**
   * Starts the handshake on an accepted socket; in `detect` mode first waits for the client's first
   * byte (within the handshake timeout) and hands a plaintext socket to `plaintext`, unread.
   */
  accept(socket: net.Socket, plaintext: (socket: net.Socket) => void): void {
    if (this.options.mode === 'tls') {
      this.engine.emit('connection', socket);
      return;
    }
    const timer = setTimeout(() => this.refuse(socket, 'nothing received in time'), this.options.credentials.handshakeTimeoutMs);
    socket.once('close', () => clearTimeout(timer));
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE_RECORD) this.engine.emit('connection', socket);
      else {
        plaintext(socket);
        socket.resume();
      }
    });
  }

  close(): void {
    this.unsubscribe();
  }

  private refuse(socket: net.Socket, reason: string): void {
    this.logger.debug({ reason, remote: socket.remoteAddress }, 'TLS handshake failed; closing the connection');
    socket.destroy();
  }
}

/** The client certificate of a TLS connection, when the client sent one and it verified against `--tls-ca`. */
export function verifiedClientCertificate(socket: net.Socket): X509Certificate | undefined {
  return socket instanceof tls.TLSSocket && socket.authorized ? socket.getPeerX509Certificate() : undefined;
}

/** Whether the protocol on this socket runs over TLS. */
export function isTls(socket: net.Socket): boolean {
  return socket instanceof tls.TLSSocket;
}
