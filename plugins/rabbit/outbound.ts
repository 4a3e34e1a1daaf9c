import type { Socket } from 'node:net';
import type { FrameSink } from './codec/index.ts';

const SLAB_BYTES = 64 * 1024;
/** Pieces this large or larger (message bodies) are queued as views, not copied. */
const COPY_LIMIT = 2048;
/** Gathered bytes are written as soon as they reach this, not only at the end of the turn. */
const FLUSH_BYTES = 128 * 1024;

/**
 * The bytes bound for one socket, gathered while a turn of the event loop runs and written together at
 * its end: one socket write per turn, not one per frame. Frames are encoded straight into a slab; large
 * pieces are queued as views. `congested` reports a full socket buffer until 'drain'.
 */
export class Outbound implements FrameSink {
  private slab = Buffer.allocUnsafe(SLAB_BYTES);
  /** Where the slab's unwritten bytes begin. */
  private start = 0;
  pos = 0;
  private readonly queued: Buffer[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  congested = false;
  /** When bytes were last handed to the socket (ms since epoch). */
  lastWrite = Date.now();

  constructor(private readonly socket: Socket) {
    socket.on('drain', () => (this.congested = false));
  }

  room(n: number): Buffer {
    this.beforeAdding();
    if (this.slab.length - this.pos < n) this.nextSlab(n);
    return this.slab;
  }

  add(bytes: Buffer): void {
    if (bytes.length < COPY_LIMIT) {
      const slab = this.room(bytes.length); // may start a new slab: read pos only after it
      this.pos += bytes.copy(slab, this.pos);
      return;
    }
    this.beforeAdding();
    this.cut();
    this.queued.push(bytes);
    this.queuedBytes += bytes.length;
  }

  /** Writes everything gathered so far. */
  readonly flush = (): void => {
    this.scheduled = false;
    this.cut();
    const pieces = this.queued;
    if (pieces.length === 0 || this.socket.destroyed || this.socket.writableEnded) {
      pieces.length = 0;
      this.queuedBytes = 0;
      return;
    }
    let ok = true;
    if (pieces.length === 1) ok = this.socket.write(pieces[0]!);
    else {
      this.socket.cork();
      for (let i = 0; i < pieces.length; i++) ok = this.socket.write(pieces[i]!);
      this.socket.uncork();
    }
    pieces.length = 0;
    this.queuedBytes = 0;
    this.lastWrite = Date.now();
    if (!ok) this.congested = true;
  };

  /** Writes early once enough is gathered; otherwise makes sure a write follows at the end of this turn. */
  private beforeAdding(): void {
    if (this.queuedBytes + this.pos - this.start >= FLUSH_BYTES) this.flush();
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
  }

  /** Queues the slab's unwritten bytes as one piece. */
  private cut(): void {
    if (this.pos === this.start) return;
    this.queued.push(this.slab.subarray(this.start, this.pos));
    this.queuedBytes += this.pos - this.start;
    this.start = this.pos;
  }

  private nextSlab(atLeast: number): void {
    this.cut();
    this.slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, atLeast));
    this.start = this.pos = 0;
  }
}
