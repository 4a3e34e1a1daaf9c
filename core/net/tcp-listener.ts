import net from 'node:net';
import type { Logger } from '../logging.ts';
import type { ListenerRegistry } from './listener-registry.ts';

/** The protocol side of one accepted socket. */
export interface Connection {
  /** Finish what was already received (answer in-flight requests), then resolve. */
  drain?(): Promise<void>;
  /** Close now. */
  close(): void;
}

export interface TcpListenerOptions {
  protocol: string;
  /** `localhost` binds both 127.0.0.1 and ::1. */
  host: string;
  /** 0 disables the listener; 'auto' lets the OS choose a port. */
  port: number | 'auto';
  maxConnections: number;
  /** Sockets silent this long are closed; 0 disables. */
  idleTimeoutMs: number;
  logger: Logger;
  registry: ListenerRegistry;
  accept(socket: net.Socket, id: number, logger: Logger): Connection;
}

/**
 * A TCP listener with a connection registry: binds every address of its host, enforces the connection
 * limit and idle timeout, announces its addresses, and on stop stops accepting, drains, then closes.
 */
export class TcpListener {
  private readonly servers: net.Server[] = [];
  private readonly connections = new Map<net.Socket, Connection>();
  private nextId = 1;

  constructor(private readonly options: TcpListenerOptions) {}

  /** Connections accepted since the listener was created. */
  get acceptedCount(): number {
    return this.nextId - 1;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async start(): Promise<void> {
    const { port, host, protocol } = this.options;
    if (port === 0) return;
    let chosen = port === 'auto' ? 0 : port;
    for (const address of hostAddresses(host)) {
      const server = net.createServer({ noDelay: true }, (socket) => this.onSocket(socket));
      server.maxConnections = this.options.maxConnections;
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
      server.on('error', (err) => this.options.logger.error({ err, protocol }, 'listener error'));
      this.servers.push(server);
      this.options.registry.add({ protocol, host: address, port: chosen });
    }
  }

  /** Stops accepting, lets connections drain for up to `drainTimeoutMs`, then closes what remains. */
  async stop(drainTimeoutMs: number): Promise<void> {
    this.options.registry.remove(this.options.protocol);
    const closed = this.servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    const connections = [...this.connections.values()];
    if (drainTimeoutMs > 0 && connections.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(connections.map((c) => c.drain?.())),
        new Promise((resolve) => (timer = setTimeout(resolve, drainTimeoutMs))),
      ]);
      clearTimeout(timer);
    }
    for (const connection of this.connections.values()) connection.close();
    for (const socket of this.connections.keys()) socket.destroy();
    this.connections.clear();
    await Promise.all(closed);
  }

  private onSocket(socket: net.Socket): void {
    const id = this.nextId++;
    const logger = this.options.logger.child({ conn: id, protocol: this.options.protocol });
    if (this.options.idleTimeoutMs > 0) {
      socket.setTimeout(this.options.idleTimeoutMs, () => {
        logger.debug('closing an idle connection');
        socket.destroy();
      });
    }
    socket.on('error', (err) => logger.debug({ err }, 'socket error'));
    try {
      const connection = this.options.accept(socket, id, logger);
      this.connections.set(socket, connection);
      socket.once('close', () => this.connections.delete(socket));
    } catch (err) {
      logger.error({ err }, 'failed to accept a connection');
      socket.destroy();
    }
  }
}

/** The addresses a host name means here: localhost is both loopbacks. */
export function hostAddresses(host: string): string[] {
  return host === 'localhost' ? ['127.0.0.1', '::1'] : [host];
}
