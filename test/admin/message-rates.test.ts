import { describe, expect, it } from 'vitest';
import type { Clock } from '../../core/index.ts';
import { MessageRates } from '../../plugins/rabbit/management/message-rates.ts';

/** A clock whose time moves when the test says, firing the timers that come due. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  const timers = new Set<{ at: number; callback: () => void }>();
  return {
    now: () => now,
    monotonic: () => now,
    setTimeout(callback, ms) {
      const timer = { at: now + ms, callback };
      timers.add(timer);
      return { cancel: () => void timers.delete(timer) };
    },
    advance(ms) {
      now += ms;
      for (const timer of [...timers].filter((t) => t.at <= now)) {
        timers.delete(timer);
        timer.callback();
      }
    },
  };
}

describe('MessageRates (the management API\'s *_details.rate)', () => {
  it('is the change per second between the last two samples, 0 before there are two, and stops sampling when stopped', () => {
    const clock = manualClock();
    const totals = new Map([['publish', 0], ['/\0messages', 10]]);
    const rates = new MessageRates(clock, () => new Map(totals), 5000);
    rates.start();
    expect(rates.withDetails({ publish: 0 })).toEqual({ publish: 0, publish_details: { rate: 0 } });
    totals.set('publish', 50).set('/\0messages', 5);
    clock.advance(5000);
    expect(rates.rate('publish')).toBe(10);
    expect(rates.withDetails({ messages: 5 }, (name) => [`/\0${name}`])).toEqual({ messages: 5, messages_details: { rate: -1 } });
    clock.advance(5000);
    expect(rates.rate('publish')).toBe(0);
    rates.stop();
    totals.set('publish', 100);
    clock.advance(5000);
    expect(rates.rate('publish')).toBe(0);
  });
});
