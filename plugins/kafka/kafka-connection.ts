import type { Socket } from 'node:net';
import { ANONYMOUS, BrokerError, userNameOf, LengthPrefixedFrames, type ClientDescription, type Connection, type Logger, type RequestMemory } from '../../core/index.ts';
import type { KafkaSession } from './security/kafka-session.ts';

/** Closes the connection in reply order: every reply before it is written first. */
export const CLOSE_CONNECTION = Symbol('close connection');

/**
 * The answer to one request: the response frame's chunks (size prefix included), none (acks=0), a close,
 * or a last answer the connection closes after (a failed authentication).
 */
export type Reply = readonly Buffer[] | undefined | typeof CLOSE_CONNECTION | { readonly last: readonly Buffer[] };

/**
 * Handles one request frame. Called in request order; it must do its order-sensitive work (appends)
 * before its first await, so that the next request may start while this one completes.
 */
export type Dispatch = (frame: Buffer, connection: KafkaConnection) => Promise<Reply>;

export interface KafkaConnectionOptions {
  /** The listener the connection came in on (`kafka`, `kafka-tls`): Metadata names that listener's addresses. */
  listener: string;
  maxRequestBytes: number;
  /** Requests started but not yet answered before reading pauses. */
  maxInFlight: number;
  /** Memory of requests in flight, shared by every connection of the listener. */
  memory: RequestMemory;
  /** A connection whose incomplete request receives nothing for this long is closed. */
  stalledRequestTimeoutMs: number;
  dispatch: Dispatch;
  logger: Logger;
}

interface Slot {
  reply: Reply;
  done: boolean;
  /** The request's bytes, charged to the shared memory until answered. */
  bytes: number;
}

/**
 * One client connection: requests start in order, complete concurrently, and are answered strictly in
 * order. Reading pauses while too many requests are in flight, while the socket cannot keep up, or
 * while requests in flight across the listener hold more memory than allowed.
 */
export class KafkaConnection implements Connection {
  private readonly frames: LengthPrefixedFrames;
  private readonly replies: Slot[] = [];
  private inFlight = 0;
  private closed = false;
  private writable = true;
  private idle: (() => void) | undefined;
  private lastReceived = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  /** While a quota throttles the client (KIP-219): nothing more is read, and requests already framed wait. */
  private muteTimer: NodeJS.Timeout | undefined;
  private readonly held: Buffer[] = [];
  /** The client.id of its latest request header. */
  clientId: string | undefined;
  /** What its ApiVersions v3+ request named (KIP-511). */
  clientSoftware: { name: string; version: string } | undefined;

  constructor(
    readonly socket: Socket,
    readonly id: number,
    private readonly options: KafkaConnectionOptions,
    /** Who the connection acts for, and its SASL exchange. */
    readonly session: KafkaSession,
    requestBytes = options.maxRequestBytes,
  ) {
    this.frames = new LengthPrefixedFrames(requestBytes, options.memory);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.writable = true;
      this.updateReading();
    });
    socket.once('close', () => {
      this.release();
      this.idle?.();
    });
  }

  get listener(): string {
    return this.options.listener;
  }

  get clientHost(): string {
    return `/${this.socket.remoteAddress ?? 'unknown'}`;
  }

  describe(): ClientDescription {
    const principal = this.session.principal;
    return {
      user: principal === ANONYMOUS ? undefined : (userNameOf(principal) ?? principal),
      clientId: this.clientId,
      clientSoftware: this.clientSoftware,
      details: { principal, sasl_mechanism: this.session.mechanism ?? null },
    };
  }

  drain(): Promise<void> {
    this.socket.pause();
    if (this.inFlight === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }

  close(): void {
    this.release();
    this.socket.destroy();
  }

  /**
   * Mutes the connection for `ms` (KIP-219): the reply carrying the throttle time goes out at once, then
   * nothing from this client is read or started until the throttle ends. A longer throttle extends it.
   */
  throttle(ms: number): void {
    if (ms <= 0 || this.closed) return;
    clearTimeout(this.muteTimer);
    this.muteTimer = setTimeout(() => {
      this.muteTimer = undefined;
      // A draining connection (shutdown) starts nothing new; what it holds is released when it closes.
      while (this.held.length > 0 && this.muteTimer === undefined && this.idle === undefined) this.start(this.held.shift()!);
      this.updateReading();
    }, ms);
    this.updateReading();
  }

  /** The largest request accepted from now on (smaller before authentication completes). */
  limitRequestBytes(bytes: number): void {
    this.frames.limit(Math.min(bytes, this.options.maxRequestBytes));
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.frames.push(chunk);
    } catch (err) {
      this.fail(err, 'unreadable request framing');
      return;
    }
    for (const frame of frames) {
      if (this.muteTimer === undefined && this.held.length === 0) this.start(frame);
      else this.held.push(frame);
    }
    if (this.frames.incomplete) this.watchProgress();
    this.updateReading();
  }

  private start(frame: Buffer): void {
    if (this.closed) {
      this.options.memory.release(frame.length);
      return;
    }
    const slot: Slot = { reply: undefined, done: false, bytes: frame.length };
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
      const { reply, bytes } = this.replies.shift()!;
      this.inFlight--;
      this.options.memory.release(bytes);
      if (reply === CLOSE_CONNECTION || (reply !== undefined && 'last' in reply)) {
        if (reply !== CLOSE_CONNECTION) for (const chunk of reply.last) this.socket.write(chunk);
        this.socket.uncork();
        this.release();
        this.socket.destroySoon();
        return;
      }
      if (reply) for (const chunk of reply) this.writable = this.socket.write(chunk) && this.writable;
    }
    this.socket.uncork();
    this.updateReading();
    if (this.inFlight === 0) this.idle?.();
  }

  private readonly resume = (): void => this.updateReading();

  private updateReading(): void {
    if (this.closed || this.idle !== undefined) return;
    if (this.muteTimer !== undefined || !this.writable || this.inFlight >= this.options.maxInFlight) this.socket.pause();
    else if (!this.options.memory.mayRead(this.frames)) {
      this.socket.pause();
      this.options.memory.wait(this.frames, this.resume);
    } else this.socket.resume();
  }

  /**
   * Arms the check that the incomplete request keeps arriving: bytes trickling in keep a connection
   * open, but one that stops sending mid-request (or that back-pressure keeps from being read while
   * it holds memory) is closed after `stalledRequestTimeoutMs`.
   */
  private watchProgress(): void {
    this.lastReceived = Date.now();
    if (this.stallTimer) return;
    const check = (): void => {
      this.stallTimer = undefined;
      if (this.closed || !this.frames.incomplete) return;
      // A throttled client's bytes are not being read: that is the broker's doing, not a stall.
      if (this.muteTimer !== undefined) this.lastReceived = Date.now();
      const waited = Date.now() - this.lastReceived;
      if (waited < this.options.stalledRequestTimeoutMs) {
        this.stallTimer = setTimeout(check, this.options.stalledRequestTimeoutMs - waited);
        return;
      }
      this.options.logger.warn({ received: this.frames.buffered, remote: this.socket.remoteAddress }, `no part of an incomplete request arrived for ${waited} ms; closing the connection`);
      this.close();
    };
    this.stallTimer = setTimeout(check, this.options.stalledRequestTimeoutMs);
  }

  /** Gives back the memory this connection holds; it reads and answers nothing more. */
  private release(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.stallTimer);
    clearTimeout(this.muteTimer);
    for (const frame of this.held.splice(0)) this.options.memory.release(frame.length);
    this.options.memory.cancel(this.frames);
    this.frames.dispose();
    for (const slot of this.replies) this.options.memory.release(slot.bytes);
    this.replies.length = 0;
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
