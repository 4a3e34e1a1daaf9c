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
