export interface Timer {
  cancel(): void;
}

/** Time and timers, injected so tests can drive timeouts without sleeping. */
export interface Clock {
  now(): number;
  /** A one-shot timer that never keeps the process alive on its own. */
  setTimeout(callback: () => void, ms: number): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};
