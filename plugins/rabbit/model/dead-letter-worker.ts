import type { AckQueue, BatchingAppender, Clock, QueuedMessage, Timer } from '../../../core/index.ts';
import type { DeadLetterReason } from './queue.ts';

/** The discards-log header naming why its record was dead-lettered. */
const REASON_HEADER = 'x-dead-letter-reason';
const REASONS: readonly DeadLetterReason[] = ['expired', 'rejected', 'maxlen', 'delivery_limit'];

/** RabbitMQ's dead_letter_worker_publisher_confirm_timeout (3.10.8's rabbit.app: 180000 ms). */
export const DEFAULT_DEAD_LETTER_SETTLE_TIMEOUT_MS = 180_000;

/** One routing of a dead letter through the dead-letter exchange. */
export interface DeadLetterRouting {
  /** The queues it routes to now (none when the exchange is missing or routes nowhere). */
  targets: readonly string[];
  /** The publishes to those of them not settled yet, each resolving true once that queue stored it. */
  stored: ReadonlyMap<string, Promise<boolean>>;
}

/** Routes a dead letter, publishing it to the targets not in `settled`. */
export type DeadLetterForward = (message: QueuedMessage, reason: DeadLetterReason, settled: ReadonlySet<string>) => DeadLetterRouting;

/** A dead letter waiting for its target queues to store it. */
interface Pending {
  readonly message: QueuedMessage;
  readonly reason: DeadLetterReason;
  /** Targets that stored it. */
  readonly settled: Set<string>;
  /** Targets of the last publish that have not stored it. */
  unsettled: Set<string>;
  /** When it was last published; undefined while it never was (no route). */
  lastPublishedAt: number | undefined;
  done: boolean;
}

/**
 * At-least-once dead-lettering of one quorum queue, as RabbitMQ's rabbit_fifo_dlx_worker: a dead-lettered
 * message moves from the queue to its discards log (so a restart resumes it), is published to the queues its
 * dead-letter exchange routes it to, and leaves the discards log once every one of them stored it. A timer
 * firing every settle timeout publishes again the messages never published (no route) and those published
 * at least a settle timeout ago, to the targets that did not store them yet.
 */
export class DeadLetterWorker {
  private readonly pendings = new Map<number, Pending>();
  private timer: Timer | undefined;
  private appending = 0;
  private appendingBytes = 0;
  private heldBytes = 0;
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly discards: AckQueue,
    private readonly appender: BatchingAppender,
    private readonly clock: Clock,
    private readonly settleTimeoutMs: number,
  ) {}

  /** Dead letters held: in the discards log, or on their way there. */
  get count(): number {
    return this.discards.readyCount + this.discards.inFlightCount + this.appending;
  }

  get bytes(): number {
    return this.heldBytes + this.appendingBytes;
  }

  /** Messages still in flight in the source queue while their discards record is being stored. */
  get moving(): number {
    return this.appending;
  }

  /** Starts forwarding what the discards log holds (after a restart: once the vhost's bindings are back). */
  start(forward: DeadLetterForward): void {
    if (this.unsubscribe || this.closed) return;
    this.unsubscribe = this.discards.onAvailable(() => this.takeAll(forward));
    this.takeAll(forward);
  }

  /** Moves a message taken from the source queue to the discards log; resolves once it is stored there. */
  hold(message: QueuedMessage, reason: DeadLetterReason): Promise<void> {
    const bytes = message.value?.length ?? 0;
    this.appending++;
    this.appendingBytes += bytes;
    const stored = this.appender.appendInBatch({ key: message.key, value: message.value, timestamp: message.timestamp, headers: [{ key: REASON_HEADER, value: Buffer.from(reason) }] });
    const moved = () => {
      this.appending--;
      this.appendingBytes -= bytes;
    };
    stored.then(moved, moved);
    return stored;
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    this.timer?.cancel();
    this.timer = undefined;
    this.pendings.clear();
    this.discards.close();
  }

  private takeAll(forward: DeadLetterForward): void {
    if (this.closed) return;
    for (let message = this.discards.take(); message; message = this.discards.take()) {
      const text = message.headers.find((h) => h.key === REASON_HEADER)?.value?.toString();
      const reason = REASONS.find((r) => r === text) ?? 'rejected';
      const pending: Pending = { message, reason, settled: new Set(), unsettled: new Set(), lastPublishedAt: undefined, done: false };
      this.pendings.set(message.offset, pending);
      this.heldBytes += message.value?.length ?? 0;
      this.publish(pending, forward);
    }
    this.armTimer(forward);
  }

  private publish(pending: Pending, forward: DeadLetterForward): void {
    const { targets, stored } = forward(pending.message, pending.reason, pending.settled);
    // Routes changed so that nothing is awaited any more, and some queue stored it: done (mandatory semantics).
    if (targets.length === 0 || stored.size === 0) {
      if (pending.settled.size > 0) this.settle(pending);
      return;
    }
    pending.unsettled = new Set(stored.keys());
    pending.lastPublishedAt = this.clock.now();
    for (const [target, promise] of stored) {
      promise.then(
        (ok) => {
          if (!ok || pending.done) return; // a refusal waits for the settle timeout
          pending.settled.add(target);
          pending.unsettled.delete(target);
          if (pending.unsettled.size === 0) this.settle(pending);
        },
        () => undefined,
      );
    }
  }

  private settle(pending: Pending): void {
    pending.done = true;
    this.pendings.delete(pending.message.offset);
    this.heldBytes -= pending.message.value?.length ?? 0;
    this.discards.ack(pending.message.offset);
    if (this.pendings.size === 0) {
      this.timer?.cancel();
      this.timer = undefined;
    }
  }

  private armTimer(forward: DeadLetterForward): void {
    if (this.timer || this.pendings.size === 0 || this.closed) return;
    // Due when last published a settle timeout before the timer fires, i.e. by the time it was armed
    // (a timer may fire a little early by the wall clock).
    const armedAt = this.clock.now();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      for (const pending of [...this.pendings.values()]) {
        if (pending.lastPublishedAt === undefined || pending.lastPublishedAt <= armedAt) this.publish(pending, forward);
      }
      this.armTimer(forward);
    }, this.settleTimeoutMs);
  }
}
