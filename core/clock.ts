export interface Timer {
  cancel(): void;
}

/** Time and timers, injected so tests can drive timeouts without sleeping. */
export interface Clock {
  now(): number;
  /** A one-shot timer. Whoever sets one cancels it when stopping, so a stopped broker leaves none behind. */
  setTimeout(callback: () => void, ms: number): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    return { cancel: () => clearTimeout(handle) };
  },
};
