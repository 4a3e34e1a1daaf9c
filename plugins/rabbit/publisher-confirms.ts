type Outcome = 'pending' | 'ack' | 'nack';

/** Consecutive publishes stored by one append: they share its promise and are confirmed together. */
interface ConfirmRun {
  first: number;
  last: number;
  stored: Promise<boolean>;
  outcome: Outcome;
}

/** `count`: how many publishes the frame settles. */
export type SendConfirm = (method: 'basic.ack' | 'basic.nack', deliveryTag: number, multiple: boolean, count: number) => void;

/**
 * A channel's publisher confirms: sequence numbers, then basic.ack / basic.nack in publish order once
 * each publish is stored (or refused), consecutive ones coalesced with multiple=true, sent at the end of
 * the turn their batch was stored in.
 */
export class PublisherConfirms {
  private seq = 0;
  private readonly runs: ConfirmRun[] = [];
  private flushScheduled = false;

  constructor(
    private readonly send: SendConfirm,
    private readonly closed: () => boolean,
  ) {}

  /** The next publish's sequence number (its delivery tag in the confirm). */
  next(): number {
    return ++this.seq;
  }

  /** `stored` resolves true once publish `seq` is stored under the flush policy, false if it was refused. */
  track(seq: number, stored: Promise<boolean>): void {
    const last = this.runs[this.runs.length - 1];
    if (last !== undefined && last.stored === stored && last.last === seq - 1) {
      last.last = seq;
      return;
    }
    const run: ConfirmRun = { first: seq, last: seq, stored, outcome: 'pending' };
    this.runs.push(run);
    stored.then(
      (ok) => this.settle(run, ok ? 'ack' : 'nack'),
      () => this.settle(run, 'nack'),
    );
  }

  private settle(run: ConfirmRun, outcome: Outcome): void {
    run.outcome = outcome;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.closed()) return;
    let ackedThrough = 0;
    let ackCount = 0;
    let head = 0;
    for (; head < this.runs.length && this.runs[head]!.outcome !== 'pending'; head++) {
      const run = this.runs[head]!;
      if (run.outcome === 'ack') {
        ackedThrough = run.last;
        ackCount += run.last - run.first + 1;
        continue;
      }
      if (ackCount > 0) this.send('basic.ack', ackedThrough, ackCount > 1, ackCount);
      ackCount = 0;
      this.send('basic.nack', run.last, run.last > run.first, run.last - run.first + 1);
    }
    if (ackCount > 0) this.send('basic.ack', ackedThrough, ackCount > 1, ackCount);
    this.runs.splice(0, head);
  };
}
