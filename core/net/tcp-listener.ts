import net from 'node:net';
import type { Logger } from '../logging.ts';
import type { ConnectionBudget } from './connection-budget.ts';
import type { ListenerRegistry } from './listener-registry.ts';
import { RecurringWarning } from './recurring-warning.ts';
import { isTls, TlsTerminator, type ListenerTls } from './tls-terminator.ts';

/** The protocol side of one accepted socket. */
export interface Connection {
  /** Finish what was already received (answer in-flight requests), then resolve. */
  drain?(): Promise<void>;
  /** Close now. */
  close(): void;
  /** Who is connected, as far as the protocol knows it yet (for the connections admin view). */
  describe?(): ClientDescription;
}

/** What a protocol knows of the client on a connection. */
export interface ClientDescription {
  /** The user it authenticated as (undefined: not yet, or anonymous). */
  user?: string;
  /** The id the client gives itself (Kafka client.id, RocketMQ x-mq-client-id, AMQP connection_name). */
  clientId?: string;
  /** The client library, if it says (Kafka KIP-511, AMQP client properties, RocketMQ x-mq-language). */
  clientSoftware?: { name: string; version: string };
  /** Protocol details worth showing (AMQP vhost, channels...). */
  details?: Record<string, unknown>;
}

/** One open client connection as the admin views list it. */
export interface ClientConnection extends ClientDescription {
  /** The listener it came in on (`kafka`, `kafka-tls`, `amqp`, `rocketmq`, `stream`...). */
  listener: string;
  /** Unique within the listener. */
  id: number;
  peerHost: string;
  peerPort: number;
  tls: boolean;
  /** ms since the epoch. */
  connectedAt: number;
  /** Bytes read from and written to the socket the protocol reads (on TLS, the decrypted stream). */
  bytesIn: number;
  bytesOut: number;
}

interface Accepted {
  connection: Connection;
  id: number;
  connectedAt: number;
}

/** Makes the protocol side of a socket this listener accepted (a `tls.TLSSocket` once its handshake is done, on a TLS listener). */
export type Accept = (socket: net.Socket, id: number, logger: Logger) => Connection;

export interface TcpListenerOptions {
  protocol: string;
  /** `localhost` binds both 127.0.0.1 and ::1. */
  host: string;
  /** 0 disables the listener; 'auto' lets the OS choose a port. */
  port: number | 'auto';
  /** This listener's own cap on open connections; 0: only the shared budget applies. */
  maxConnections: number;
  /** The connections all listeners of the process may hold together. */
  budget: ConnectionBudget;
  /** Sockets silent this long are closed; 0 disables (a protocol with its own liveness rule). */
  idleTimeoutMs: number;
  logger: Logger;
  registry: ListenerRegistry;
  /** Serve TLS (see `ListenerTls`); absent: plaintext only. */
  tls?: ListenerTls;
}

/** How long a socket whose sending side we closed waits for the peer to close its side. */
const CLOSE_GRACE_MS = 5000;

/**
 * A TCP listener with a connection registry: binds every address of its host, admits a connection
 * only within its own limit and the shared budget (refusing the rest by closing them), closes idle
 * sockets and sockets whose peer never finishes closing, announces its addresses, and on stop stops
 * accepting, drains, then closes. `bind()` and `serve()` are separate so that a protocol that needs its
 * port to get ready can bind first: connections that arrive in between wait, unread, until `serve()`.
 * With `tls`, a connection's TLS handshake runs once it is served, and the protocol gets the TLS socket.
 */
export class TcpListener {
  private readonly servers: net.Server[] = [];
  /** Every admitted TCP socket, each holding a unit of the budget. */
  private readonly admitted = new Set<net.Socket>();
  /** Admitted before `serve()`: they wait, unread. */
  private readonly waiting = new Set<net.Socket>();
  /** The sockets protocols read (TCP, or TLS over it) and their connections. */
  private readonly connections = new Map<net.Socket, Accepted>();
  private readonly tls: TlsTerminator | undefined;
  private accept: Accept | undefined;
  private nextId = 1;
  private stopped = false;
  private readonly refusals: RecurringWarning;
  private readonly acceptFailures: RecurringWarning;

  constructor(private readonly options: TcpListenerOptions) {
    this.refusals = new RecurringWarning(options.logger, 'connection limit reached: refusing connections');
    this.acceptFailures = new RecurringWarning(options.logger, 'cannot accept connections: the process is out of file descriptors');
    this.tls = options.tls && new TlsTerminator(options.tls, (socket) => this.handOver(socket), options.logger.child({ protocol: options.protocol }));
  }

  /** Connections handed to the protocol since the listener was created. */
  get acceptedCount(): number {
    return this.nextId - 1;
  }

  /** The name it announces itself under (`kafka`, `kafka-tls`, ...). */
  get protocol(): string {
    return this.options.protocol;
  }

  get connectionCount(): number {
    return this.admitted.size;
  }

  /** The connections handed to the protocol and still open, described. */
  clients(): ClientConnection[] {
    const out: ClientConnection[] = [];
    for (const [socket, accepted] of this.connections) {
      out.push({
        listener: this.options.protocol,
        id: accepted.id,
        peerHost: socket.remoteAddress ?? '',
        peerPort: socket.remotePort ?? 0,
        tls: isTls(socket),
        connectedAt: accepted.connectedAt,
        bytesIn: socket.bytesRead,
        bytesOut: socket.bytesWritten,
        ...accepted.connection.describe?.(),
      });
    }
    return out;
  }

  /** Binds and serves at once. */
  async start(accept: Accept): Promise<void> {
    await this.bind();
    this.serve(accept);
  }

  /** Binds every address of the host; resolves with the port (undefined when the listener is disabled). */
  async bind(): Promise<number | undefined> {
    const { port, host, protocol } = this.options;
    if (port === 0) return undefined;
    let chosen = port === 'auto' ? 0 : port;
    for (const address of hostAddresses(host)) {
      const server = net.createServer({ noDelay: true }, (socket) => this.onSocket(socket));
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: address, port: chosen, exclusive: true }, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (address === '::1' && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) continue;
        await this.stop(0);
        throw err;
      }
      chosen = (server.address() as net.AddressInfo).port;
      server.on('error', (err) => this.onServerError(err));
      this.servers.push(server);
      this.options.registry.add({ protocol, host: address, port: chosen, ...(this.options.tls ? { tls: this.options.tls.mode } : {}) });
      this.options.registry.track(this);
    }
    return chosen;
  }

  /** Hands the connections that waited since `bind()`, and every later one, to `accept`. */
  serve(accept: Accept): void {
    this.accept = accept;
    for (const socket of this.waiting) this.begin(socket);
    this.waiting.clear();
  }

  /** Stops accepting, lets connections drain for up to `drainTimeoutMs`, then closes what remains. */
  async stop(drainTimeoutMs: number): Promise<void> {
    this.stopped = true;
    this.options.registry.remove(this.options.protocol);
    this.options.registry.untrack(this);
    const closed = this.servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    const connections = [...this.connections.values()].map((a) => a.connection);
    if (drainTimeoutMs > 0 && connections.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(connections.map((c) => c.drain?.())),
        new Promise((resolve) => (timer = setTimeout(resolve, drainTimeoutMs))),
      ]);
      clearTimeout(timer);
    }
    for (const { connection } of this.connections.values()) connection.close();
    for (const socket of this.connections.keys()) socket.destroy();
    for (const socket of this.admitted) socket.destroy();
    this.connections.clear();
    this.tls?.close();
    await Promise.all(closed);
  }

  private onSocket(socket: net.Socket): void {
    if (this.stopped || !this.admit()) {
      if (!this.stopped) this.refusals.note({ protocol: this.options.protocol, connections: this.admitted.size, limit: this.limitDescription() });
      socket.destroy();
      return;
    }
    this.admitted.add(socket);
    socket.once('close', () => {
      this.admitted.delete(socket);
      this.waiting.delete(socket);
      this.options.budget.release();
    });
    socket.on('error', (err) => this.options.logger.debug({ err, protocol: this.options.protocol }, 'socket error'));
    if (this.accept) this.begin(socket);
    else this.waiting.add(socket);
  }

  /** A served TCP socket: its TLS handshake first, on a TLS listener. */
  private begin(socket: net.Socket): void {
    if (this.tls) this.tls.accept(socket, (plaintext) => this.handOver(plaintext));
    else this.handOver(socket);
  }

  private admit(): boolean {
    const { maxConnections, budget } = this.options;
    return (maxConnections === 0 || this.admitted.size < maxConnections) && budget.tryAcquire();
  }

  private limitDescription(): string {
    const { maxConnections, budget } = this.options;
    return maxConnections > 0 && this.admitted.size >= maxConnections ? `${this.options.protocol} max ${maxConnections}` : `all listeners max ${budget.limit}`;
  }

  /** Gives the socket the protocol reads (TCP, or TLS over it) to the protocol; closes it when idle or half-closed too long. */
  private handOver(socket: net.Socket): void {
    if (!this.admitted.has(socket)) socket.on('error', (err) => this.options.logger.debug({ err, protocol: this.options.protocol }, 'socket error'));
    socket.once('finish', () => {
      if (!socket.destroyed) setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    });
    if (this.options.idleTimeoutMs > 0) {
      socket.setTimeout(this.options.idleTimeoutMs, () => {
        this.options.logger.debug({ protocol: this.options.protocol }, 'closing an idle connection');
        socket.destroy();
      });
    }
    socket.once('close', () => this.connections.delete(socket));
    const id = this.nextId++;
    const logger = this.options.logger.child({ conn: id, protocol: this.options.protocol });
    try {
      this.connections.set(socket, { connection: this.accept!(socket, id, logger), id, connectedAt: Date.now() });
    } catch (err) {
      logger.error({ err }, 'failed to accept a connection');
      socket.destroy();
    }
  }

  /** Out of descriptors, accept fails (libuv closes the pending connection): the broker goes on serving. */
  private onServerError(err: NodeJS.ErrnoException): void {
    if (err.code === 'EMFILE' || err.code === 'ENFILE') {
      this.acceptFailures.note({ protocol: this.options.protocol, code: err.code, connections: this.admitted.size });
    } else this.options.logger.error({ err, protocol: this.options.protocol }, 'listener error');
  }
}

/** The addresses a host name means here: localhost is both loopbacks. */
export function hostAddresses(host: string): string[] {
  return host === 'localhost' ? ['127.0.0.1', '::1'] : [host];
}
