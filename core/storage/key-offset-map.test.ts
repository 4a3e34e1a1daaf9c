import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyOffsetMap } from './key-offset-map.ts';

describe('KeyOffsetMap', () => {
  it('answers exactly as a Map of the key bytes would, through growth, for any keys', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 12 }), fc.nat()), { maxLength: 3000 }), (puts) => {
        const map = new KeyOffsetMap(1_000_000, 4);
        const reference = new Map<string, number>();
        for (const [bytes, offset] of puts) {
          const key = Buffer.from(bytes);
          expect(map.put(key, offset)).toBe(true);
          reference.set(key.toString('hex'), offset);
        }
        expect(map.size).toBe(reference.size);
        for (const [hex, offset] of reference) expect(map.get(Buffer.from(hex, 'hex'))).toBe(offset);
        expect(map.get(Buffer.from('not a key of length over twelve'))).toBe(-1);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a new key once full, unless told to grow past its limit, and still updates known keys', () => {
    const map = new KeyOffsetMap(2, 1);
    expect(map.put(Buffer.from('a'), 1)).toBe(true);
    expect(map.put(Buffer.from('b'), 2)).toBe(true);
    expect(map.full).toBe(true);
    expect(map.put(Buffer.from('c'), 3)).toBe(false);
    expect(map.put(Buffer.from('a'), 4)).toBe(true);
    expect(map.put(Buffer.from('c'), 5, true)).toBe(true);
    expect([map.get(Buffer.from('a')), map.get(Buffer.from('b')), map.get(Buffer.from('c'))]).toEqual([4, 2, 5]);
  });
});
