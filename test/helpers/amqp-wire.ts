import net from 'node:net';
import { FrameParser, FrameType, methodFrame, parseMethod, PROTOCOL_HEADER, type AmqpMethod, type MethodArgs, type MethodName } from '../../plugins/rabbit/codec/index.ts';

/** A bare AMQP socket that has done the handshake, for tests that must send frames no client library would. */
export class AmqpWire {
  private readonly parser = new FrameParser(1 << 20, (type, channel, payload) => {
    if (type !== FrameType.method) return;
    const method = { ...parseMethod(payload), channel } as AmqpMethod & { channel: number };
    const waiter = this.waiting.shift();
    if (waiter) waiter(method);
    else this.received.push(method);
  });
  private readonly waiting: Array<(m: AmqpMethod & { channel: number }) => void> = [];
  private readonly received: Array<AmqpMethod & { channel: number }> = [];
  readonly closed: Promise<void>;
  raw: Buffer[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.raw.push(chunk);
      try {
        this.parser.push(chunk);
      } catch {
        // protocol-header replies are not frames
      }
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connectRaw(port: number): Promise<AmqpWire> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new AmqpWire(socket)));
      socket.once('error', reject);
    });
  }

  /** Connects and completes start / tune / open as guest on vhost '/'. */
  static async open(port: number, options: { frameMax?: number; heartbeat?: number } = {}): Promise<AmqpWire> {
    const wire = await AmqpWire.connectRaw(port);
    wire.socket.write(PROTOCOL_HEADER);
    await wire.expect('connection.start');
    wire.method(0, 'connection.start-ok', {
      clientProperties: new Map([['capabilities', { type: 'F', value: new Map([['authentication_failure_close', { type: 't', value: true }]]) }]]),
      mechanism: 'PLAIN',
      response: Buffer.from('\u0000guest\u0000guest'),
      locale: 'en_US',
    });
    const tune = await wire.expect('connection.tune');
    wire.method(0, 'connection.tune-ok', { channelMax: 0, frameMax: options.frameMax ?? tune.args.frameMax, heartbeat: options.heartbeat ?? 0 });
    wire.method(0, 'connection.open', { virtualHost: '/', capabilities: '', insist: true });
    await wire.expect('connection.open-ok');
    return wire;
  }

  method<K extends MethodName>(channel: number, name: K, args: MethodArgs[K]): void {
    this.socket.write(methodFrame(channel, name, args));
  }

  next(): Promise<AmqpMethod & { channel: number }> {
    const ready = this.received.shift();
    return ready ? Promise.resolve(ready) : new Promise((resolve) => this.waiting.push(resolve));
  }

  async expect<K extends MethodName>(name: K): Promise<{ name: K; args: MethodArgs[K]; channel: number }> {
    const method = await this.next();
    if (method.name !== name) throw new Error(`expected ${name}, got ${method.name} ${JSON.stringify(method.args, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    return method as never;
  }

  close(): void {
    this.socket.destroy();
  }
}
