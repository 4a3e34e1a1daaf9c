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

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    return { cancel: () => clearTimeout(handle) };
  },
};
