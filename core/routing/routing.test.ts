import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headersMatch, type TypedValue } from './headers-matcher.ts';
import { TopicMatcher } from './topic-matcher.ts';

/** The plainest possible reading of RabbitMQ's topic rules, to check the trie against. */
function reference(pattern: string, key: string): boolean {
  const p = pattern === '' ? [] : pattern.split('.');
  const k = key === '' ? [] : key.split('.');
  const go = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    if (p[i] === '#') return go(i + 1, j) || (j < k.length && go(i, j + 1));
    if (j === k.length) return false;
    return (p[i] === '*' || p[i] === k[j]) && go(i + 1, j + 1);
  };
  return go(0, 0);
}

const topicMatches = (pattern: string, key: string): boolean => {
  const m = new TopicMatcher<string>();
  m.add(pattern, 'q');
  return m.match(key).has('q');
};

describe('TopicMatcher', () => {
  it('follows the reference table observed on RabbitMQ 3.10.8', () => {
    const cases: Array<[string, string[], string[]]> = [
      ['*', ['a', 'c'], ['', 'a.b']],
      ['#', ['', 'a.', '.a', 'a..c', 'a.b.c'], []],
      ['a.*', ['a.b', 'a.c', 'a.'], ['a', 'a.b.c']],
      ['a.#', ['a', 'a.b', 'a.', 'a..c'], ['b', 'ab']],
      ['#.c', ['c', 'a.c', 'a.b.c', 'a..c'], ['c.a']],
      ['a.*.c', ['a.b.c', 'a..c'], ['a.c', 'a.b.b.c']],
      ['a.#.c', ['a.c', 'a.b.c', 'a.b.b.c', 'a..c'], ['a.b']],
      ['*.*', ['a.b', 'a.', '.a'], ['a', 'a.b.c']],
      ['', [''], ['a']],
      ['#.#', ['', 'a', 'a.b.c'], []],
    ];
    for (const [pattern, yes, no] of cases) {
      for (const key of yes) expect(topicMatches(pattern, key), `${pattern} ~ ${JSON.stringify(key)}`).toBe(true);
      for (const key of no) expect(topicMatches(pattern, key), `${pattern} !~ ${JSON.stringify(key)}`).toBe(false);
    }
  });

  it('agrees with the reference reading on generated patterns and keys', () => {
    const word = fc.constantFrom('a', 'b', 'c', '', '*', '#');
    const keyWord = fc.constantFrom('a', 'b', 'c', '');
    const pattern = fc.array(word, { maxLength: 5 }).map((w) => w.join('.'));
    const key = fc.array(keyWord, { maxLength: 5 }).map((w) => w.join('.'));
    fc.assert(
      fc.property(fc.array(pattern, { minLength: 1, maxLength: 8 }), key, (patterns, k) => {
        const m = new TopicMatcher<number>();
        patterns.forEach((p, i) => m.add(p, i));
        const expected = new Set(patterns.flatMap((p, i) => (reference(p, k) ? [i] : [])));
        expect(m.match(k)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('counts duplicate bindings once, removes them in any order, and prunes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a.b', 'a.*', '#', 'x.#.y', ''), fc.constantFrom('q1', 'q2')), { maxLength: 10 }), (bindings) => {
        const m = new TopicMatcher<string>();
        for (const [p, d] of bindings) m.add(p, d);
        for (const [p, d] of [...bindings].reverse()) m.remove(p, d);
        expect(m.size).toBe(0);
        expect(m.match('a.b').size).toBe(0);
      }),
    );
    const m = new TopicMatcher<string>();
    m.add('a.b', 'q');
    m.add('a.b', 'q');
    expect(m.size).toBe(1);
    expect(m.remove('a.b', 'q')).toBe(true);
    expect(m.match('a.b').has('q')).toBe(true);
    expect(m.remove('a.b', 'q')).toBe(true);
    expect(m.match('a.b').has('q')).toBe(false);
    expect(m.remove('a.b', 'q')).toBe(false);
  });

  it('stays fast with 100k bindings and pathological # patterns', () => {
    const m = new TopicMatcher<number>();
    for (let i = 0; i < 100_000; i++) m.add(`stock.${i % 500}.${i}.#`, i);
    for (let i = 0; i < 50; i++) m.add('#.#.#.#.#.#.#.#', -i);
    const started = performance.now();
    expect(m.match('stock.7.1007.x.y').has(1007)).toBe(true);
    expect(m.match(Array.from({ length: 60 }, () => 'w').join('.')).size).toBe(50);
    expect(performance.now() - started).toBeLessThan(200);
  });
});

const S = (s: string): TypedValue => ({ type: 'S', value: Buffer.from(s) });
const I = (n: number): TypedValue => ({ type: 'I', value: n });

describe('headersMatch', () => {
  const headers = new Map<string, TypedValue>([['format', S('pdf')], ['type', S('report')], ['n', I(1)], ['x-tag', S('t')]]);
  it('applies all and any, typed equality, void presence checks and the x- rules', () => {
    expect(headersMatch('all', new Map([['format', S('pdf')], ['type', S('report')]]), headers)).toBe(true);
    expect(headersMatch('all', new Map([['format', S('pdf')], ['type', S('log')]]), headers)).toBe(false);
    expect(headersMatch('any', new Map([['format', S('zip')], ['type', S('report')]]), headers)).toBe(true);
    expect(headersMatch('any', new Map([['format', S('zip')]]), headers)).toBe(false);
    expect(headersMatch('all', new Map([['n', S('1')]]), headers)).toBe(false);
    expect(headersMatch('all', new Map([['n', I(1)]]), headers)).toBe(true);
    expect(headersMatch('all', new Map([['format', { type: 'V', value: null }]]), headers)).toBe(true);
    expect(headersMatch('all', new Map([['x-foo', I(1)]]), headers)).toBe(true);
    expect(headersMatch('all-with-x', new Map([['x-foo', I(1)]]), headers)).toBe(false);
    expect(headersMatch('any-with-x', new Map([['x-tag', S('t')]]), headers)).toBe(true);
    expect(headersMatch('all', new Map(), headers)).toBe(true);
    expect(headersMatch('any', new Map(), headers)).toBe(false);
    expect(headersMatch('all', new Map([['format', S('pdf')]]), undefined)).toBe(false);
  });

  it('compares values as RabbitMQ 3.10 does: numbers across widths, strings by bytes, array elements with their types', () => {
    const value = (type: string, v: unknown): TypedValue => ({ type, value: v });
    const matches = (pattern: TypedValue, actual: TypedValue) => headersMatch('all', new Map([['k', pattern]]), new Map([['k', actual]]));
    expect(matches(value('b', 1), value('l', 1n))).toBe(true);
    expect(matches(value('b', 1), value('d', 1))).toBe(true);
    expect(matches(value('b', 1), value('T', 1n))).toBe(true);
    expect(matches(value('i', 4_000_000_000), value('l', 4_000_000_000n))).toBe(true);
    expect(matches(value('f', 1.5), value('d', 1.5))).toBe(true);
    expect(matches(S('a'), value('x', Buffer.from('a')))).toBe(true);
    expect(matches(value('s', 1), S('1'))).toBe(false);
    expect(matches(value('t', true), value('b', 1))).toBe(false);
    expect(matches(value('D', { scale: 0, digits: 1 }), value('b', 1))).toBe(false);
    expect(matches(value('D', { scale: 1, digits: 10 }), value('D', { scale: 1, digits: 10 }))).toBe(true);
    expect(matches(value('A', [value('b', 1)]), value('A', [value('l', 1n)]))).toBe(false);
    expect(matches(value('A', [S('a')]), value('A', [S('a')]))).toBe(true);
    expect(matches(value('l', 2n ** 60n), value('l', 2n ** 60n + 1n))).toBe(false);
  });
});
