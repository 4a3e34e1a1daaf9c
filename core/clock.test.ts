import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from './clock.ts';

describe('systemClock', () => {
  afterEach(() => vi.useRealTimers());

  it('waits the whole delay when it is longer than a Node timer can hold (2^31 - 1 ms)', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const thirtyDays = 30 * 24 * 3600 * 1000;
    systemClock.setTimeout(fired, thirtyDays);
    vi.advanceTimersByTime(2 ** 31);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(thirtyDays - 2 ** 31 - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('cancels a chained timer at any step', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const timer = systemClock.setTimeout(fired, 2 ** 32);
    vi.advanceTimersByTime(2 ** 31);
    timer.cancel();
    vi.advanceTimersByTime(2 ** 32);
    expect(fired).not.toHaveBeenCalled();
  });
});
