import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../errors.ts';
import { compileSql92, parseTagExpression } from './index.ts';

const props = (map: Record<string, string>) => (name: string) => map[name];

describe('tag filter', () => {
  it('matches all with * or blank, exactly the listed tags otherwise', () => {
    expect(parseTagExpression('*').matches(undefined)).toBe(true);
    expect(parseTagExpression('  ').matches('x')).toBe(true);
    const ab = parseTagExpression(' A || B ||');
    expect(['A', 'B', 'C', undefined].map((t) => ab.matches(t))).toEqual([true, true, false, false]);
  });

  it('a || b matches exactly a and b (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z0-9_]{1,8}$/), fc.stringMatching(/^[a-zA-Z0-9_]{1,8}$/), fc.stringMatching(/^[a-zA-Z0-9_]{1,8}$/), (a, b, c) => {
        expect(parseTagExpression(`${a} || ${b}`).matches(c)).toBe(c === a || c === b);
      }),
    );
  });
});

describe('SQL92 filter', () => {
  const message = { a: '5', b: 'hello world', c: 'true', d: '3.5', s: 'abc', t: 'abd' };
  const cases: Array<[string, boolean]> = [
    ['a = 5', true],
    ['a = 6', false],
    ['a <> 6', true],
    ['a > 4 AND a < 6', true],
    ['a >= 5 and a <= 5', true],
    ['a > 5 OR d < 4', true],
    ['d > 3.4', true],
    ['d > 3.5e0', false],
    ['a BETWEEN 1 AND 5', true],
    ['a NOT BETWEEN 1 AND 5', false],
    ["b IN ('x', 'hello world')", true],
    ["b NOT IN ('x', 'hello world')", false],
    ['missing IS NULL', true],
    ['a IS NOT NULL', true],
    ['a IS NULL', false],
    ['missing = 1', false],
    ['NOT (missing = 1)', false],
    ['missing > 1 OR TRUE', true],
    ['missing > 1 AND FALSE', false],
    ["missing IN ('x')", false],
    ["missing NOT IN ('x')", false],
    ['c = TRUE', true],
    ['TRUE', true],
    ['FALSE', false],
    ["b CONTAINS 'lo w'", true],
    ["b NOT CONTAINS 'lo w'", false],
    ["b STARTSWITH 'hell'", true],
    ["b ENDSWITH 'world'", true],
    ["b ENDSWITH 'hello'", false],
    ['a = -(-5)', true],
    ['a > -1', true],
    ["s = 'abc'", true],
    ["s <> 'abc'", false],
    ['s < t', true],
    ['b > 1', false],
    ["(a = 5 AND (s = 'abc' OR s = 'x')) AND NOT (d > 10)", true],
    ["A = 5", false],
    ["a = 5 aNd s = 'abc'", true],
    ['a = 5L', true],
    ['a = 0x5', true],
    ["s = 'it''s'", false],
  ];
  it.each(cases)('%s -> %s', (expression, expected) => {
    expect(compileSql92(expression).matches(props(message))).toBe(expected);
  });

  it('reads quoted quotes', () => {
    expect(compileSql92("q = 'it''s'").matches(props({ q: "it's" }))).toBe(true);
  });

  const bad: Array<[string, RegExp]> = [
    ['a =', /position 4/],
    ["a = 'x", /unterminated string/],
    ['a', /boolean/],
    ['a AND b', /boolean/],
    ["a > 'x'", /cannot be compared/],
    ['a IN (1, 2)', /string literal/],
    ['(a = 1', /expected \)/],
    ['a = 1 b = 2', /unexpected b/],
    ['a # 1', /unexpected character/],
    ['NOT a', /boolean/],
    ['', /unexpected end/],
  ];
  it.each(bad)('rejects %s', (expression, message) => {
    expect(() => compileSql92(expression)).toThrow(message);
  });

  it('refuses over-deep nesting and over-long expressions with INVALID_FILTER', () => {
    expect(() => compileSql92(`${'('.repeat(5000)}a = 1${')'.repeat(5000)}`)).toThrow(BrokerError);
    expect(() => compileSql92(`${'NOT '.repeat(5000)}TRUE`)).toThrow(/nesting/);
    expect(() => compileSql92(`a = '${'x'.repeat(70_000)}'`)).toThrow(/longer than/);
  });

  it('any string compiles or throws INVALID_FILTER, quickly', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.array(fc.constantFrom('a', '=', '1', "'x'", 'AND', 'OR', 'NOT', '(', ')', 'IN', 'BETWEEN', 'IS', 'NULL', ',', '>', 'TRUE', '-', 'CONTAINS'), { maxLength: 30 }).map((t) => t.join(' '))), (source) => {
        try {
          compileSql92(source).matches(props({ a: '1' }));
        } catch (err) {
          expect(err).toBeInstanceOf(BrokerError);
          expect((err as BrokerError).code).toBe('INVALID_FILTER');
        }
      }),
      { numRuns: 2000 },
    );
  });

  const comparison = fc
    .tuple(fc.constantFrom('a', 'b', 'missing'), fc.constantFrom('=', '<>', '>', '<', '>=', '<='), fc.integer({ min: -3, max: 3 }))
    .map(([name, op, n]) => `${name} ${op} ${n}`);
  const expression: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof({ maxDepth: 4 }, comparison, fc.constantFrom('TRUE', 'FALSE', 'missing IS NULL'), tie('e').map((e) => `NOT (${e})`), fc.tuple(tie('e'), fc.constantFrom('AND', 'OR'), tie('e')).map(([x, op, y]) => `(${x}) ${op} (${y})`)),
  })).e;

  it('NOT (e) matches exactly when e is FALSE (three-valued logic)', () => {
    fc.assert(
      fc.property(expression, fc.integer({ min: -3, max: 3 }), fc.integer({ min: -3, max: 3 }), (e, a, b) => {
        const lookup = props({ a: String(a), b: String(b) });
        const isTrue = compileSql92(e).matches(lookup);
        const negated = compileSql92(`NOT (${e})`).matches(lookup);
        const isFalse = compileSql92(`(${e}) = FALSE`).matches(lookup);
        expect(negated).toBe(isFalse);
        expect(isTrue && negated).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
