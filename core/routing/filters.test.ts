import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../errors.ts';
import { compileSql92, SQL92_MAX_DEPTH, SQL92_MAX_LENGTH } from './sql92-filter.ts';
import { compileCondition } from './sql92/evaluate.ts';
import { EVALUATION_FAILED } from './sql92/java-values.ts';
import { parseSelector } from './sql92/parser.ts';
import { parseTagExpression } from './tag-filter.ts';

type Props = Record<string, string | undefined>;

const lookup =
  (props: Props) =>
  (name: string): string | undefined =>
    Object.hasOwn(props, name) ? props[name] : undefined;

/** The three-valued result RocketMQ computes, with a thrown evaluation failure as 'failed'. */
function evaluate(expression: string, props: Props): boolean | null | 'failed' {
  const condition = compileCondition(parseSelector(expression));
  try {
    return condition(lookup(props));
  } catch (err) {
    if (err === EVALUATION_FAILED) return 'failed';
    throw err;
  }
}

function compileError(expression: string): BrokerError {
  try {
    compileSql92(expression);
  } catch (err) {
    expect(BrokerError.is(err, 'INVALID_FILTER'), String(err)).toBe(true);
    return err as BrokerError;
  }
  throw new Error(`expected ${JSON.stringify(expression)} to be refused`);
}

describe('parseTagExpression', () => {
  it('follows RocketMQ tag subscriptions', () => {
    const cases: Array<[string, Array<string | undefined>, Array<string | undefined>]> = [
      ['*', ['A', '', '*', undefined], []],
      ['', ['A', undefined], []],
      ['   ', ['A', undefined], []],
      ['||', ['A', undefined], []],
      ['A', ['A'], ['B', 'a', ' A', undefined, '']],
      ['A || B', ['A', 'B'], ['C', 'A || B', undefined]],
      [' A ||  B ||', ['A', 'B'], ['', ' A']],
      ['A|B', ['A|B'], ['A', 'B']],
      [' * ', ['*'], ['A', undefined]],
      ['A || *', ['A', '*'], ['B', undefined]],
    ];
    for (const [expression, yes, no] of cases) {
      const filter = parseTagExpression(expression);
      for (const tag of yes) expect(filter.matches(tag), `${JSON.stringify(expression)} ~ ${tag}`).toBe(true);
      for (const tag of no) expect(filter.matches(tag), `${JSON.stringify(expression)} !~ ${tag}`).toBe(false);
    }
    expect(parseTagExpression('*').matchesAll).toBe(true);
    expect([...parseTagExpression(' A || B ').tags]).toEqual(['A', 'B']);
  });

  it('A || B matches exactly the tags A and B', () => {
    const tag = fc.string({ minLength: 1, maxLength: 6 }).filter((t) => t.trim() === t && t !== '' && !t.includes('||') && t !== '*');
    fc.assert(
      fc.property(tag, tag, fc.option(fc.string({ maxLength: 6 }), { nil: undefined }), (a, b, other) => {
        const filter = parseTagExpression(`${a} || ${b}`);
        expect(filter.matches(a)).toBe(true);
        expect(filter.matches(b)).toBe(true);
        expect(filter.matches(other)).toBe(other === a || other === b);
      }),
      { numRuns: 500 },
    );
  });
});

describe('compileSql92 evaluation', () => {
  // [expression, message properties, RocketMQ's result: TRUE, FALSE, UNKNOWN (null) or a thrown failure]
  const cases: Array<[string, Props, boolean | null | 'failed']> = [
    // ExpressionTest's AND / OR vectors
    ['a=3 and b<>4 And c>5 AND d<=4', { a: '3', b: '5', c: '6', d: '1' }, true],
    ['a=3 and b<>4 And c>5 AND d<=4', { a: '4', b: '5', c: '6', d: '1' }, false],
    ['a=3 or b<>4 Or c>5 OR d<=4', { a: '4', b: '4', c: '3', d: '2' }, true],
    ['a=3 or b<>4 Or c>5 OR d<=4', { a: '4', b: '4', c: '3', d: '10' }, false],
    // = compares a string property with a number by parsing it as that number's Java type
    ['a = 3', { a: '3' }, true],
    ['a = 3', { a: '+3' }, true],
    ['a = 3', { a: '3.0' }, 'failed'],
    ['a = 3', { a: 'x' }, 'failed'],
    ['a = 3', {}, null],
    ["a = '3'", { a: '3' }, true],
    ["a = '3'", { a: '03' }, false],
    ['a = 3.0', { a: '3' }, true],
    ['a = 3.0', { a: ' 03 ' }, true],
    ['a = 3.0', { a: '3d' }, true],
    ['a = 1.5', { a: '0x1.8p0' }, true],
    ['a = -1.5', { a: ' -0X.Cp1F ' }, true],
    ['a < 1.5', { a: '0x0p99999' }, true],
    ['a > 1.5', { a: '0x1p1' }, true],
    ['a = 1.5', { a: '0x1.8' }, 'failed'],
    ['a = 1.5', { a: '1.5e' }, 'failed'],
    ['a = 1.5', { a: '+1.50D' }, true],
    ['a = 1.5', { a: '1.5\u00a0' }, 'failed'],
    ['a = 1.0', { a: 'NaN' }, false],
    ['a = 5L', { a: '5' }, true],
    ['a = -5', { a: '-5' }, true],
    ['a = - -5', { a: '5' }, true],
    ['-a = 5', { a: '-5' }, null],
    ['a <> 3', { a: '4' }, true],
    ['a <> 3', {}, null],
    // null on the right only is FALSE, both null TRUE (ComparisonExpression's equality)
    ["'x' = a", {}, false],
    ["'x' <> a", {}, true],
    ['a = b', {}, true],
    ['a = b', { a: '1' }, false],
    ['a = b', { b: '1' }, null],
    ['a = b', { a: '3.14', b: '3.14' }, true],
    ['a <> b', { a: '3.14', b: '3.141' }, true],
    // ordering: numbers only; a property that will not parse fails the whole message
    ['a > 5', { a: '6' }, true],
    ['a > 5', { a: '5' }, false],
    ['a > 5', { a: '5.5' }, 'failed'],
    ['a > 5.0', { a: '5.5' }, true],
    ['a > 5', { a: 'abc' }, 'failed'],
    ['a > 5', {}, null],
    ['a > 5 OR b = 1', { a: 'abc', b: '1' }, 'failed'],
    ['b = 1 OR a > 5', { a: 'abc', b: '1' }, true],
    ['a >= 5.5', { a: '5.5' }, true],
    ['a < 1e3', { a: '999' }, true],
    ['a < 1000', { a: '999.5' }, 'failed'],
    ['a <= .5', { a: '0.5' }, true],
    ['a > 3.1E10', { a: '3.1415E10' }, true],
    ['a > 3.14', { a: '3.1415' }, true],
    ['a > -5', { a: '-4' }, true],
    ['a > +5', { a: '6' }, true],
    ['a > 2147483647', { a: '2147483648' }, 'failed'],
    ['a > 2147483646.5', { a: '2147483648' }, true],
    ['a > 3000000000', { a: '3000000001' }, true],
    ['a > 3000000000', { a: '9223372036854775808' }, 'failed'],
    ['a < 9007199254740993', { a: '9007199254740992' }, true],
    ['a > 1.0', { a: 'NaN' }, true],
    ['a > 1.0', { a: 'Infinity' }, true],
    ['a > 1.0', { a: '-Infinity' }, false],
    ['a < 0.5', { a: '-0' }, true],
    // two properties: both parsed as doubles, or the message fails
    ['a > b', { a: '20', b: '10' }, true],
    ['a > b', { a: '10', b: '20' }, false],
    ['a > b', { a: 'x', b: '1' }, 'failed'],
    ['a > b', { b: '1' }, null],
    ['TRUE OR a > b', { a: 'x', b: '1' }, true],
    // BETWEEN is >= AND <=, NOT BETWEEN is < OR >
    ['a between 2 and 10', { a: '2' }, true],
    ['a between 2 and 10', { a: '10' }, true],
    ['a between 2 and 10', { a: '11' }, false],
    ['a between 2 and 10', { a: 'x' }, 'failed'],
    ['a between 2 and 10', {}, null],
    ['a not between 2 and 10', { a: '1' }, true],
    ['a not between 2 and 10', { a: '5' }, false],
    ['a not between 2 and 10', {}, null],
    ['a between -1 and -5', { a: '-3' }, false],
    ['a between b and c', { a: '3', b: '1', c: '5' }, true],
    // IN takes string literals; a missing property is UNKNOWN
    ["a in ('3', '4', '5')", { a: '4' }, true],
    ["a in ('3', '4', '5')", { a: '8' }, false],
    ["a in ('3', '4', '5')", {}, null],
    ["a not in ('3', '4', '5')", { a: '8' }, true],
    ["a not in ('3', '4', '5')", { a: '3' }, false],
    ["a not in ('3', '4', '5')", {}, null],
    ["a in ('u','v','w','x','y','z')", { a: 'z' }, true],
    ["TAGS IN ('TagA', 'TagB')", { TAGS: 'TagB' }, true],
    // IS [NOT] NULL
    ['a is null', { abc: '2' }, true],
    ['a is null', { a: '' }, false],
    ['a is not null', { a: '' }, true],
    ['a is not null', {}, false],
    ['1 IS NULL', {}, false],
    ['NULL IS NULL', {}, true],
    ["a is null OR a='hello'", {}, true],
    ["a is null OR a='hello'", { a: 'abc' }, false],
    // CONTAINS / STARTSWITH / ENDSWITH: an empty search or a non-string value is FALSE, even negated
    ["value contains 'x'", { value: 'axb' }, true],
    ["value startswith 'ax'", { value: 'axb' }, true],
    ["value endswith 'xb'", { value: 'axb' }, true],
    ["value not contains 'x'", { value: 'axb' }, false],
    ["value not startswith 'x'", { value: 'abb' }, true],
    ["value not endswith 'x'", { value: 'abb' }, true],
    ["value contains ''", { value: 'axb' }, false],
    ["value not contains ''", { value: 'axb' }, false],
    ["value contains 'x'", {}, false],
    ["value not contains 'x'", {}, false],
    ["value not endswith 'x'", {}, false],
    ["'axb' contains 'x'", {}, true],
    ["' ' not startswith ' '", {}, false],
    ["'axb' contains '.'", {}, false],
    ['5 contains \'5\'', {}, false],
    ["a not in ('4', '4', '5') and b between 3 and 10 and c not contains 'axbc'", { a: '3', b: '3', c: 'axbdc' }, true],
    // literals and the boolean cast of a bare property (a string is never a Boolean: FALSE)
    ['TRUE', {}, true],
    ['FALSE', {}, false],
    ['NULL', {}, null],
    ['NOT NULL', {}, null],
    ['NOT FALSE', {}, true],
    ['a', { a: 'true' }, false],
    ['NOT a', { a: 'true' }, true],
    ['NOT a', {}, null],
    // NOT binds tighter than comparisons: NOT a = 'x' is (NOT a) = 'x', a Boolean against a string
    ["NOT a = 'x'", { a: 'y' }, 'failed'],
    ["NOT (a = 'x')", { a: 'y' }, true],
    // strings against TRUE / FALSE go through Boolean.valueOf
    ['a=TRUE OR b=FALSE', { a: 'true', b: 'false' }, true],
    ['a=TRUE OR b=FALSE', { a: 'false', b: 'true' }, false],
    ['a = TRUE', { a: 'TRUE' }, true],
    ['a = FALSE', { a: 'yes' }, true],
    ['TRUE = a', { a: 'true' }, 'failed'],
    ['TRUE <> a', {}, true],
    ['1 = TRUE', {}, false],
    ['(a = 1) = TRUE', { a: '1' }, true],
    // three-valued logic
    ['a = 1 AND b = 1', { b: '1' }, null],
    ['a = 1 AND b = 2', { b: '1' }, false],
    ['NOT (a = 1 AND b = 2)', { b: '1' }, true],
    ['a = 1 OR b = 1', { b: '1' }, true],
    ['a = 1 OR b = 2', { b: '1' }, null],
    ['NOT (a = 1 OR b = 2)', { b: '1' }, null],
    // lexical details
    ["TAGS is not null and TAGS='''''tag'''''", { TAGS: "''tag''" }, true],
    ["a = 'héllo ☃'", { a: 'héllo ☃' }, true],
    ['$a_1 = 1 aNd b = 2', { $a_1: '1', b: '2' }, true],
    ['a iS nOt NuLl', { a: 'x' }, true],
    ['a = 1 /* note */ AND b = 2', { a: '1', b: '2' }, true],
    ['a = 1 -- note\nAND b = 2', { a: '1', b: '3' }, false],
    ['a = 1 -- note', { a: '1' }, true],
    ['a<=now', { a: '1', now: '2' }, true],
  ];

  it.each(cases)('%s with %j is %s', (expression, props, expected) => {
    expect(evaluate(expression, props)).toBe(expected);
    expect(compileSql92(expression).matches(lookup(props))).toBe(expected === true);
  });

  it('flattens long OR chains instead of nesting them', () => {
    const alternatives = Array.from({ length: 600 }, (_, i) => `a = '${i}'`);
    const filter = compileSql92(alternatives.join(' OR '));
    expect(filter.matches(lookup({ a: '599' }))).toBe(true);
    expect(filter.matches(lookup({ a: '600' }))).toBe(false);
  });

  it('lets errors thrown by the property lookup through', () => {
    const boom = new Error('lookup failed');
    expect(() =>
      compileSql92('a = 1').matches(() => {
        throw boom;
      }),
    ).toThrow(boom);
  });
});

describe('compileSql92 refusals', () => {
  // [expression, 1-based position named in the message, a fragment of the message]
  const cases: Array<[string, number, string]> = [
    ['', 1, 'found the end of the expression'],
    ['a =', 4, 'found the end of the expression'],
    ['a = 1 b', 7, "unexpected 'b'"],
    ['a = 1 b = 2', 7, 'after a complete expression'],
    ['a + 1', 3, "unexpected '+'"],
    ['a = 0x10', 6, "unexpected 'x10'"],
    ['a = 007', 6, "unexpected '0'"],
    ['$a_1 = 1 aNd B.c = 2', 15, "unexpected character '.'"],
    ['a != 1', 3, "unexpected character '!'"],
    ['a <=> 1', 5, "found '>'"],
    ["a = 'abc", 5, 'unterminated string literal'],
    ['a = 1 /* note', 7, 'unterminated /* comment'],
    ['a = 1\u00a0', 6, 'U+00A0'],
    ['a and between 2 and 10', 7, "found 'between'"],
    ['a IN (1)', 7, 'expected a string literal'],
    ["a IN ('1' '2')", 11, "expected ',' or ')'"],
    ["a IN ()", 7, "found ')'"],
    ['a CONTAINS x', 12, 'expected a string literal after CONTAINS'],
    ['a contains 123', 12, 'expected a string literal after CONTAINS'],
    ["'axb' contains ", 16, 'found the end of the expression'],
    ['a NOT LIKE \'x\'', 7, 'expected CONTAINS, STARTSWITH, ENDSWITH, BETWEEN or IN after NOT'],
    ['a IS 5', 6, 'expected NULL or NOT NULL after IS'],
    ['a IS NOT 5', 10, 'expected NULL after IS NOT'],
    ['(a = 1', 7, "expected ')' to close the '(' at position 1"],
    ['a BETWEEN 1 OR 2', 13, 'expected AND between the bounds'],
    [' a between 10 and 0', 4, 'lower bound of BETWEEN is greater'],
    ['a between 5 and 1.0', 3, 'lower bound of BETWEEN is greater'],
    ['a between NULL and 1', 3, 'cannot be NULL'],
    ["a between 'a' and 'b'", 3, 'string literal or a boolean cannot be its operand'],
    ['a > 100000000000000000000000', 5, 'does not fit a Java long'],
    ['a > 9223372036854775808', 5, 'does not fit a Java long'],
    ['a > 1e400', 5, 'larger than the largest double'],
    ['a > 0.0', 5, 'below the smallest positive double'],
    ['a > 1e-400', 5, 'below the smallest positive double'],
    ["a > 'x'", 3, 'cannot be its operand'],
    ['a > TRUE', 3, 'cannot be its operand'],
    ['(a = 1) > 2', 9, 'cannot be its operand'],
    ["'a' IN ('a')", 5, 'IN needs a property'],
    ['a = NULL', 3, 'use IS NULL'],
    ['NULL <> a', 6, 'use IS NULL'],
    ['TRUE = 1', 6, 'TRUE or FALSE literal cannot be compared'],
    ['1', 1, 'where a condition is expected'],
    ["'x'", 1, 'where a condition is expected'],
    ['-a', 1, 'where a condition is expected'],
    ['1 OR a', 1, 'where a condition is expected'],
    ["a = 1 AND 'x'", 11, 'where a condition is expected'],
    ['NOT 1 > 2', 5, 'where a condition is expected'],
    ['a = 1 OR -b', 10, 'where a condition is expected'],
  ];

  it.each(cases)('%j is refused at position %i', (expression, position, fragment) => {
    const err = compileError(expression);
    expect(err.message).toContain(`at position ${position}:`);
    expect(err.message).toContain(fragment);
  });

  it('accepts what RocketMQ accepts around those edges', () => {
    for (const expression of ['1 = TRUE', 'a between -1 and -5', 'a between b and c', '(a) IN (\'x\')', '+a IN (\'x\')', 'a > 4.9e-324', 'a > 9223372036854775807']) {
      expect(() => compileSql92(expression), expression).not.toThrow();
    }
  });

  it('limits length and nesting', () => {
    const nested = (depth: number): string => `${'('.repeat(depth)}a = 1${')'.repeat(depth)}`;
    expect(() => compileSql92(nested(SQL92_MAX_DEPTH - 1))).not.toThrow();
    expect(compileError(nested(SQL92_MAX_DEPTH + 1)).message).toContain('nests deeper');
    expect(compileError(`${'NOT '.repeat(SQL92_MAX_DEPTH + 1)}a`).message).toContain('nests deeper');
    expect(compileError(`${'- '.repeat(SQL92_MAX_DEPTH + 1)}1 = a`).message).toContain('nests deeper');
    expect(compileError(`a${' = a'.repeat(SQL92_MAX_DEPTH + 1)}`).message).toContain('nests deeper');
    expect(compileError(nested(5000)).message).toContain('longer than');
    expect(compileError(`a = '${'x'.repeat(SQL92_MAX_LENGTH)}'`).message).toContain(`longer than ${SQL92_MAX_LENGTH}`);
  });
});

describe('compileSql92 properties', () => {
  const tokens = [
    'a', 'b', 'TAGS', '=', '<>', '>', '>=', '<', '<=', '(', ')', ',', '+', '-', 'AND', 'or', 'NOT', 'BETWEEN', 'IN', 'IS',
    'NULL', 'TRUE', 'false', 'CONTAINS', 'STARTSWITH', 'ENDSWITH', "'x'", "''", "'", '1', '2.5', '0.0', '1e400', '7L',
    '99999999999999999999', '--', '\n', '/*', '*/', '.', '!', '"',
  ];
  const soup = fc.array(fc.constantFrom(...tokens), { maxLength: 25 }).map((parts) => parts.join(' '));
  const anyText = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }), soup);
  const props = fc.record({
    a: fc.option(fc.constantFrom('1', '2', '10', '-3', '1.5', 'x', 'true', ''), { nil: undefined }),
    b: fc.option(fc.constantFrom('1', '2', '2.5', 'x', 'NaN'), { nil: undefined }),
    TAGS: fc.option(fc.constantFrom('x', 'TagA'), { nil: undefined }),
  });

  it('either compiles any text or throws INVALID_FILTER, quickly', () => {
    fc.assert(
      fc.property(anyText, props, (text, p) => {
        const started = performance.now();
        let filter;
        try {
          filter = compileSql92(text);
        } catch (err) {
          expect(BrokerError.is(err, 'INVALID_FILTER'), String(err)).toBe(true);
        }
        expect(typeof (filter?.matches(lookup(p)) ?? false)).toBe('boolean');
        expect(performance.now() - started).toBeLessThan(250);
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses pathological input without overflowing the stack', () => {
    for (const text of ['('.repeat(8000), 'NOT '.repeat(2000), '-'.repeat(8000), `a${' = a'.repeat(2000)}`, "'".repeat(8001)]) {
      expect(() => compileSql92(text)).toThrow(BrokerError);
    }
  });

  const condition: fc.Arbitrary<string> = fc.letrec<{ condition: string }>((tie) => ({
    condition: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.tuple(fc.constantFrom('a', 'b'), fc.constantFrom('=', '<>', '>', '>=', '<', '<='), fc.constantFrom('1', '2', '2.5', '-1', '3000000000')).map((t) => t.join(' ')),
      fc.tuple(fc.constantFrom('a', 'b', "'1'"), fc.constantFrom('=', '<>'), fc.constantFrom("'1'", "'x'", 'a', 'b', 'TRUE')).map((t) => t.join(' ')),
      fc.tuple(fc.constantFrom('a', 'b'), fc.constantFrom('>', '<'), fc.constantFrom('a', 'b')).map((t) => t.join(' ')),
      fc.tuple(fc.constantFrom('a', 'b', 'TAGS'), fc.constantFrom('IS NULL', 'IS NOT NULL')).map((t) => t.join(' ')),
      fc.tuple(fc.constantFrom('a', 'TAGS'), fc.constantFrom('IN', 'NOT IN'), fc.constantFrom("('1')", "('x', 'TagA')")).map((t) => t.join(' ')),
      fc.tuple(fc.constantFrom('a', 'TAGS'), fc.constantFrom('CONTAINS', 'NOT STARTSWITH', 'ENDSWITH'), fc.constantFrom("'x'", "''", "'1'")).map((t) => t.join(' ')),
      fc.tuple(fc.constantFrom('a', 'b'), fc.constantFrom('BETWEEN', 'NOT BETWEEN'), fc.constantFrom('1 AND 2', '-1 AND 1.5', 'b AND 2')).map((t) => t.join(' ')),
      fc.constantFrom('TRUE', 'FALSE', 'NULL', 'a', 'NOT a'),
      fc.tuple(tie('condition'), fc.constantFrom('AND', 'OR'), tie('condition')).map(([l, op, r]) => `(${l}) ${op} (${r})`),
      tie('condition').map((c) => `NOT (${c})`),
    ),
  })).condition;

  it('NOT (e) matches exactly when e evaluates to FALSE', () => {
    fc.assert(
      fc.property(condition, props, (e, p) => {
        const result = evaluate(e, p);
        expect(compileSql92(`NOT (${e})`).matches(lookup(p))).toBe(result === false);
        expect(compileSql92(e).matches(lookup(p))).toBe(result === true);
      }),
      { numRuns: 3000 },
    );
  });

  it('AND and OR obey De Morgan in three-valued logic', () => {
    fc.assert(
      fc.property(condition, condition, props, (x, y, p) => {
        expect(evaluate(`NOT (${x}) OR NOT (${y})`, p)).toBe(evaluate(`NOT ((${x}) AND (${y}))`, p));
        expect(evaluate(`NOT (${x}) AND NOT (${y})`, p)).toBe(evaluate(`NOT ((${x}) OR (${y}))`, p));
      }),
      { numRuns: 1000 },
    );
  });
});
