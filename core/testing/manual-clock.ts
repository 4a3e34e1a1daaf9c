import type { Clock, Timer } from '../clock.ts';

interface Scheduled {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/** A clock tests move by hand: timers fire, in order, only inside advance(). */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private scheduled: Scheduled[] = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  monotonic(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): Timer {
    const entry: Scheduled = { at: this.time + Math.max(0, ms), seq: this.seq++, callback, cancelled: false };
    this.scheduled.push(entry);
    return { cancel: () => void (entry.cancelled = true) };
  }

  /** Moves time forward, firing due timers in time order (timers they set fire too if due). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = this.scheduled
        .filter((s) => !s.cancelled && s.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.scheduled = this.scheduled.filter((s) => s !== due);
      this.time = Math.max(this.time, due.at);
      due.callback();
    }
    this.time = target;
    this.scheduled = this.scheduled.filter((s) => !s.cancelled);
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.scheduled.filter((s) => !s.cancelled).length;
  }
}
