/**
 * The memory held by requests in flight across every connection of a listener (Kafka's
 * `queued.max.request.bytes`): requests still arriving, by the bytes that have arrived, and whole
 * requests until they are answered. Over the limit, readers stop reading (back-pressure) until memory
 * is released, except the reader whose incomplete request is the oldest: it keeps reading, so a
 * request larger than the limit, or one that other incomplete requests are waiting behind, still
 * completes and nothing deadlocks. Memory is thus bounded by the limit, one socket read per reader,
 * and that one request.
 */
export class RequestMemory {
  private used = 0;
  /** Readers with an incomplete request, oldest first. */
  private readonly incomplete = new Set<object>();
  private readonly waiting = new Map<object, () => void>();

  constructor(readonly limit: number) {}

  get bytes(): number {
    return this.used;
  }

  charge(bytes: number): void {
    this.used += bytes;
  }

  release(bytes: number): void {
    this.used -= bytes;
    if (this.waiting.size > 0) this.wake();
  }

  /** `reader` started receiving a request that spans socket reads. */
  started(reader: object): void {
    this.incomplete.add(reader);
  }

  /** `reader`'s incomplete request arrived whole, or its connection closed. */
  finished(reader: object): void {
    if (this.incomplete.delete(reader) && this.waiting.size > 0) this.wake();
  }

  /** Whether `reader` may read more now. */
  mayRead(reader: object): boolean {
    return this.used < this.limit || this.oldest() === reader;
  }

  /** Calls `resume` once `reader` may read again. */
  wait(reader: object, resume: () => void): void {
    this.waiting.set(reader, resume);
  }

  cancel(reader: object): void {
    this.waiting.delete(reader);
  }

  private oldest(): object | undefined {
    for (const reader of this.incomplete) return reader;
    return undefined;
  }

  private wake(): void {
    if (this.used >= this.limit) {
      const oldest = this.oldest();
      if (oldest !== undefined) this.resume(oldest);
      return;
    }
    for (const reader of [...this.waiting.keys()]) this.resume(reader);
  }

  private resume(reader: object): void {
    const resume = this.waiting.get(reader);
    if (!resume) return;
    this.waiting.delete(reader);
    resume();
  }
}
