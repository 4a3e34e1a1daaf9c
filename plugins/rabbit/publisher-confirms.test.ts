import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PublisherConfirms } from './publisher-confirms.ts';

/** Publishes grouped as appends: each group shares one promise; groups settle in any order, as ok or refused. */
const scenario = fc
  .array(fc.record({ size: fc.integer({ min: 1, max: 6 }), ok: fc.boolean(), shared: fc.boolean() }), { minLength: 1, maxLength: 20 })
  .chain((groups) => fc.tuple(fc.constant(groups), fc.shuffledSubarray([...groups.keys()], { minLength: groups.length, maxLength: groups.length })));

describe('PublisherConfirms', () => {
  it('confirms every publish exactly once, with its outcome, as a client reading multiple=true sees it', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ([groups, settleOrder]) => {
        const frames: Array<{ method: 'basic.ack' | 'basic.nack'; tag: number; multiple: boolean }> = [];
        const confirms = new PublisherConfirms((method, tag, multiple) => frames.push({ method, tag, multiple }), () => false);
        const expected = new Map<number, 'basic.ack' | 'basic.nack'>();
        const settlers: Array<() => void> = [];
        for (const group of groups) {
          let settle!: (ok: boolean) => void;
          const shared = new Promise<boolean>((resolve) => (settle = resolve));
          for (let i = 0; i < group.size; i++) {
            const seq = confirms.next();
            expected.set(seq, group.ok ? 'basic.ack' : 'basic.nack');
            // Refused publishes usually get a promise of their own; stored ones share their batch's.
            confirms.track(seq, group.shared ? shared : Promise.resolve(group.ok));
          }
          settlers.push(() => settle(group.ok));
        }
        for (const index of settleOrder) {
          settlers[index]!();
          await new Promise((resolve) => setImmediate(resolve));
        }
        // Replay the frames as a client does: multiple=true settles every outstanding tag up to it.
        const outstanding = new Set(expected.keys());
        const seen = new Map<number, string>();
        for (const { method, tag, multiple } of frames) {
          const settled = multiple ? [...outstanding].filter((t) => t <= tag) : [tag];
          expect(settled.length).toBeGreaterThan(0);
          for (const t of settled) {
            expect(outstanding.delete(t)).toBe(true);
            seen.set(t, method);
          }
        }
        expect(outstanding.size).toBe(0);
        expect(seen).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
