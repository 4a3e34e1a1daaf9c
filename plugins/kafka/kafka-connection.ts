import type { Socket } from 'node:net';
import { BrokerError, LengthPrefixedFrames, type Connection, type Logger } from '../../core/index.ts';

/** Closes the connection in reply order: every reply before it is written first. */
export const CLOSE_CONNECTION = Symbol('close connection');

/** The answer to one request: the response frame's chunks (size prefix included), none (acks=0), or a close. */
export type Reply = readonly Buffer[] | undefined | typeof CLOSE_CONNECTION;

/**
 * Handles one request frame. Called in request order; it must do its order-sensitive work (appends)
 * before its first await, so that the next request may start while this one completes.
 */
export type Dispatch = (frame: Buffer, connection: KafkaConnection) => Promise<Reply>;

export interface KafkaConnectionOptions {
  maxRequestBytes: number;
  /** Requests started but not yet answered before reading pauses. */
  maxInFlight: number;
  dispatch: Dispatch;
  logger: Logger;
}

/**
 * One client connection: requests start in order, complete concurrently, and are answered strictly in
 * order. Reading pauses while too many requests are in flight or while the socket cannot keep up.
 */
export class KafkaConnection implements Connection {
  private readonly frames: LengthPrefixedFrames;
  private readonly replies: Array<{ reply: Reply; done: boolean }> = [];
  private inFlight = 0;
  private closed = false;
  private writable = true;
  private idle: (() => void) | undefined;

  constructor(
    readonly socket: Socket,
    readonly id: number,
    private readonly options: KafkaConnectionOptions,
  ) {
    this.frames = new LengthPrefixedFrames(options.maxRequestBytes);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.writable = true;
      this.updateReading();
    });
    socket.once('close', () => {
      this.closed = true;
      this.idle?.();
    });
  }

  get clientHost(): string {
    return `/${this.socket.remoteAddress ?? 'unknown'}`;
  }

  drain(): Promise<void> {
    this.socket.pause();
    if (this.inFlight === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
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
      this.fail(err, 'unreadable request framing');
      return;
    }
    for (const frame of frames) this.start(frame);
    this.updateReading();
  }

  private start(frame: Buffer): void {
    if (this.closed) return;
    const slot: { reply: Reply; done: boolean } = { reply: undefined, done: false };
    this.replies.push(slot);
    this.inFlight++;
    let pending: Promise<Reply>;
    try {
      pending = this.options.dispatch(frame, this);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (reply) => {
        slot.reply = reply;
        slot.done = true;
        this.flush();
      },
      (err: unknown) => this.fail(err, 'request failed'),
    );
  }

  /** Writes every finished reply at the head of the queue, in order, in one corked burst. */
  private flush(): void {
    if (this.closed) return;
    this.socket.cork();
    while (this.replies.length > 0 && this.replies[0]!.done) {
      const { reply } = this.replies.shift()!;
      this.inFlight--;
      if (reply === CLOSE_CONNECTION) {
        this.socket.uncork();
        this.closed = true;
        this.socket.destroySoon();
        return;
      }
      if (reply) for (const chunk of reply) this.writable = this.socket.write(chunk) && this.writable;
    }
    this.socket.uncork();
    this.updateReading();
    if (this.inFlight === 0) this.idle?.();
  }

  private updateReading(): void {
    if (this.closed) return;
    if (!this.writable || this.inFlight >= this.options.maxInFlight) this.socket.pause();
    else if (this.idle === undefined) this.socket.resume();
  }

  /** A malformed request closes this connection, and nothing else. */
  private fail(err: unknown, what: string): void {
    if (this.closed) return;
    const clientFault = BrokerError.is(err) && (err.code === 'MALFORMED_INPUT' || err.code === 'FRAME_TOO_LARGE' || err.code === 'UNSUPPORTED_VERSION');
    if (clientFault) this.options.logger.warn({ code: err.code, reason: err.message, remote: this.socket.remoteAddress }, `${what}; closing the connection`);
    else this.options.logger.error({ err }, `${what}; closing the connection`);
    this.close();
  }
}
