export interface Timer {
  cancel(): void;
}

/** Time and timers, injected so tests can drive timeouts without sleeping. */
export interface Clock {
  /** Wall-clock time in ms since the epoch: timestamps, retention. */
  now(): number;
  /** A clock that never jumps, in ms from an arbitrary origin: deadlines that safety depends on (leases). */
  monotonic(): number;
  /** A one-shot timer. Whoever sets one cancels it when stopping, so a stopped broker leaves none behind. */
  setTimeout(callback: () => void, ms: number): Timer;
}

/** Node fires a longer timeout after 1 ms; longer waits are chained in steps of this. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(callback, ms) {
    let handle: NodeJS.Timeout;
    const arm = (remaining: number): void => {
      handle = remaining > MAX_TIMEOUT_MS ? setTimeout(() => arm(remaining - MAX_TIMEOUT_MS), MAX_TIMEOUT_MS) : setTimeout(callback, remaining);
    };
    arm(ms);
    return { cancel: () => clearTimeout(handle) };
  },
};

/**
 * Resolves when the first of several events fires or after `ms`, whichever comes first; every
 * subscription is undone then. Each `subscribe` registers its wake-up and returns its unsubscribe.
 */
export function firstEventOrTimeout(clock: Clock, ms: number, subscriptions: ReadonlyArray<(wake: () => void) => () => void>): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribes: Array<() => void> = [];
    let done = false;
    const wake = (): void => {
      if (done) return;
      done = true;
      timer.cancel();
      for (const unsubscribe of unsubscribes) unsubscribe();
      resolve();
    };
    const timer = clock.setTimeout(wake, Math.max(0, ms));
    for (const subscribe of subscriptions) {
      unsubscribes.push(subscribe(wake));
      if (done) unsubscribes.pop()!();
    }
  });
}
