import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntTable } from './int-table.ts';

const key = fc.oneof(fc.nat(64), fc.nat(5000), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER));
const op = fc.oneof(
  fc.tuple(fc.constant('set' as const), key, fc.integer()),
  fc.tuple(fc.constant('delete' as const), key, fc.constant(0)),
  fc.tuple(fc.constant('get' as const), key, fc.constant(0)),
);

describe('IntTable', () => {
  it('behaves as a Map for any sequence of sets, deletes and gets', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const table = new IntTable<number>();
        const model = new Map<number, number>();
        for (const [kind, k, v] of ops) {
          if (kind === 'set') {
            table.set(k, v);
            model.set(k, v);
          } else if (kind === 'delete') expect(table.delete(k)).toBe(model.delete(k));
          else expect(table.get(k)).toBe(model.get(k));
          expect(table.size).toBe(model.size);
        }
        expect(table.sortedKeys()).toEqual([...model.keys()].sort((a, b) => a - b));
        for (const [k, v] of model) expect(table.get(k)).toBe(v);
        const seen = new Map<number, number>();
        table.forEach((v, k) => seen.set(k, v));
        expect(seen).toEqual(model);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a sliding window of sequential keys (the in-flight pattern) without losing entries', () => {
    const table = new IntTable<number>();
    for (let k = 0; k < 100_000; k++) {
      table.set(k, k * 2);
      if (k >= 37) expect(table.delete(k - 37)).toBe(true);
      if (k % 1000 === 0) expect(table.get(k - 10 < 0 ? k : k - 10)).toBe((k - 10 < 0 ? k : k - 10) * 2);
    }
    expect(table.size).toBe(37);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.get(99_999)).toBeUndefined();
  });
});
