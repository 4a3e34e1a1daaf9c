import net from 'node:net';
import {
  contentFrames,
  CONTENT_METHODS,
  decodeProperties,
  encodePropertiesBytes,
  FrameParser,
  FrameType,
  methodFrame,
  parseContentHeader,
  parseMethod,
  PROTOCOL_HEADER,
  type AmqpMethod,
  type BasicProperties,
  type MethodArgs,
  type MethodName,
} from '../../plugins/rabbit/codec/index.ts';

/** A received message's content: its properties (decoded and as sent) and its body. */
export interface WireContent {
  properties: BasicProperties;
  propertyBytes: Buffer;
  body: Buffer;
}

type Received = AmqpMethod & { channel: number; content?: WireContent };

/** A bare AMQP socket that has done the handshake, for tests that must send frames no client library would. */
export class AmqpWire {
  private readonly parser = new FrameParser(1 << 20, (type, channel, payload) => {
    if (type === FrameType.method) {
      const method: Received = { ...parseMethod(payload), channel };
      if (CONTENT_METHODS.has(method.name)) this.assembling = { method, size: 0, chunks: [] };
      else this.emit(method);
    } else if (type === FrameType.header && this.assembling) {
      const header = parseContentHeader(payload);
      const propertyBytes = Buffer.from(header.properties);
      this.assembling.method.content = { properties: decodeProperties(propertyBytes, 0, propertyBytes.length), propertyBytes, body: Buffer.alloc(0) };
      this.assembling.size = header.bodySize;
      this.completeContent();
    } else if (type === FrameType.body && this.assembling) {
      this.assembling.chunks.push(Buffer.from(payload));
      this.completeContent();
    }
  });
  private assembling: { method: Received; size: number; chunks: Buffer[] } | undefined;
  private readonly waiting: Array<(m: Received) => void> = [];
  private readonly received: Received[] = [];
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
    wire.method(0, 'connection.tune-ok', { channelMax: tune.args.channelMax, frameMax: options.frameMax ?? tune.args.frameMax, heartbeat: options.heartbeat ?? 0 });
    wire.method(0, 'connection.open', { virtualHost: '/', capabilities: '', insist: true });
    await wire.expect('connection.open-ok');
    return wire;
  }

  private emit(method: Received): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(method);
    else this.received.push(method);
  }

  private completeContent(): void {
    const { method, size, chunks } = this.assembling!;
    const body = Buffer.concat(chunks);
    if (body.length < size) return;
    method.content!.body = body;
    this.assembling = undefined;
    this.emit(method);
  }

  /** basic.publish with its content frames. */
  publish(channel: number, exchange: string, routingKey: string, properties: BasicProperties, body: Buffer | string, options: { mandatory?: boolean } = {}): void {
    const args = { ticket: 0, exchange, routingKey, mandatory: options.mandatory ?? false, immediate: false };
    for (const frame of contentFrames(channel, 'basic.publish', args, encodePropertiesBytes(properties), Buffer.from(body), 131_072)) this.socket.write(frame);
  }

  method<K extends MethodName>(channel: number, name: K, args: MethodArgs[K]): void {
    this.socket.write(methodFrame(channel, name, args));
  }

  next(): Promise<Received> {
    const ready = this.received.shift();
    return ready ? Promise.resolve(ready) : new Promise((resolve) => this.waiting.push(resolve));
  }

  async expect<K extends MethodName>(name: K): Promise<{ name: K; args: MethodArgs[K]; channel: number; content?: WireContent }> {
    const method = await this.next();
    if (method.name !== name) throw new Error(`expected ${name}, got ${method.name} ${JSON.stringify(method.args, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    return method as never;
  }

  close(): void {
    this.socket.destroy();
  }
}
