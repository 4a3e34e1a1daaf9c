import net from 'node:net';

/** Idle sockets opened against one port; tells which the server still holds open. */
export class Flood {
  private constructor(private readonly sockets: net.Socket[]) {}

  /** Opens `count` connections to 127.0.0.1:`port`, 100 at a time, sending nothing. */
  static async open(port: number, count: number): Promise<Flood> {
    const sockets: net.Socket[] = [];
    for (let i = 0; i < count; i += 100) {
      const batch = Array.from({ length: Math.min(100, count - i) }, () => connect(port));
      sockets.push(...(await Promise.all(batch)));
    }
    return new Flood(sockets);
  }

  /** Sockets the server has not closed. */
  get open(): net.Socket[] {
    return this.sockets.filter((s) => !s.destroyed && !s.readableEnded);
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', () => resolve(socket));
    socket.on('data', () => undefined);
    socket.on('end', () => socket.destroy());
  });
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
