import type { Socket } from 'node:net';
import type { FrameSink } from './codec/index.ts';

const SLAB_BYTES = 64 * 1024;
/** A connection's first slab (and its first after going idle): enough for the handshake, control frames, small deliveries. */
const FIRST_SLAB_BYTES = 4 * 1024;
/** Pieces this large or larger (message bodies) are queued as views, not copied. */
const COPY_LIMIT = 2048;
/** Gathered bytes are written as soon as they reach this, not only at the end of the turn. */
const FLUSH_BYTES = 128 * 1024;

/**
 * The bytes bound for one socket, gathered while a turn of the event loop runs and written together at
 * its end: one socket write per turn, not one per frame. Frames are encoded straight into a slab; large
 * pieces are queued as views. `congested` reports a full socket buffer until 'drain'. The slab is
 * allocated by the first frame encoded into it (small at first, 64 KiB once a turn needs more), reused
 * from its start whenever the socket has taken everything, and dropped when the connection goes idle
 * (`release`); without one, small pieces are queued as they are.
 */
export class Outbound implements FrameSink {
  private slab: Buffer | undefined;
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
    if (this.slab === undefined || this.slab.length - this.pos < n) this.nextSlab(n);
    return this.slab!;
  }

  add(bytes: Buffer): void {
    if (bytes.length < COPY_LIMIT && this.slab !== undefined) {
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
    // Written synchronously, every byte is in the kernel: the slab is reused from its start, so a
    // connection touches no more of it than one turn's output.
    if (this.socket.writableLength === 0) this.start = this.pos = 0;
  };

  /** Writes early once enough is gathered; otherwise makes sure a write follows at the end of this turn. */
  private beforeAdding(): void {
    if (this.queuedBytes + this.pos - this.start >= FLUSH_BYTES) this.flush();
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
  }

  /** Drops the slab (the connection is idle); the next frame encoded allocates one again. */
  release(): void {
    if (this.pos !== this.start) return;
    this.slab = undefined;
    this.start = this.pos = 0;
  }

  /** Queues the slab's unwritten bytes as one piece. */
  private cut(): void {
    if (this.pos === this.start) return;
    this.queued.push(this.slab!.subarray(this.start, this.pos));
    this.queuedBytes += this.pos - this.start;
    this.start = this.pos;
  }

  private nextSlab(atLeast: number): void {
    this.cut();
    this.slab = Buffer.allocUnsafeSlow(Math.max(this.slab === undefined ? FIRST_SLAB_BYTES : SLAB_BYTES, atLeast));
    this.start = this.pos = 0;
  }
}
