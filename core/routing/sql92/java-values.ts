/**
 * The Java value semantics RocketMQ's SQL92 filter inherits: numbers keep their Java type (a literal
 * in int range is an Integer, a larger one a Long, one with a point or exponent a Double), and a
 * string compared with a number is converted with that number's `valueOf`, which may fail.
 */
export type JavaNumber =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'long'; readonly value: bigint }
  | { readonly kind: 'double'; readonly value: number };

/** What an expression evaluates to; property values are always strings. */
export type JavaValue = null | boolean | string | JavaNumber;

/**
 * Thrown where Java would throw during evaluation (a failed number conversion, a bad cast). RocketMQ
 * catches it around the whole expression and treats the message as not matching; one shared object,
 * so failing costs no allocation.
 */
export const EVALUATION_FAILED: unique symbol = Symbol('sql92 evaluation failed');

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

const SIGNED_DIGITS = /^[+-]?[0-9]+$/;

export function intValue(value: number): JavaNumber {
  return { kind: 'int', value };
}

export function longValue(value: bigint): JavaNumber {
  return { kind: 'long', value };
}

export function doubleValue(value: number): JavaNumber {
  return { kind: 'double', value };
}

export function inIntRange(value: bigint): boolean {
  return value >= BigInt(INT_MIN) && value <= BigInt(INT_MAX);
}

export function inLongRange(value: bigint): boolean {
  return value >= LONG_MIN && value <= LONG_MAX;
}

/** Integer.valueOf(String), ASCII digits only. */
export function parseJavaInt(text: string): number {
  if (!SIGNED_DIGITS.test(text)) throw EVALUATION_FAILED;
  const value = Number(text);
  if (value < INT_MIN || value > INT_MAX) throw EVALUATION_FAILED;
  return value + 0;
}

/** Long.valueOf(String), ASCII digits only. */
export function parseJavaLong(text: string): bigint {
  if (!SIGNED_DIGITS.test(text)) throw EVALUATION_FAILED;
  const value = BigInt(text);
  if (!inLongRange(value)) throw EVALUATION_FAILED;
  return value;
}

const DECIMAL_DOUBLE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?$/;
const HEX_DOUBLE = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?[0-9]+)[fFdD]?$/;
const SPECIAL_DOUBLE = /^([+-]?)(NaN|Infinity)$/;

/** Double.valueOf(String): Java's trim, decimal and hexadecimal forms, NaN, Infinity, an f/d suffix. */
export function parseJavaDouble(raw: string): number {
  const text = javaTrim(raw);
  if (DECIMAL_DOUBLE.test(text)) {
    const last = text.charCodeAt(text.length - 1);
    const isDigitOrDot = (last >= 0x30 && last <= 0x39) || last === 0x2e;
    return Number(isDigitOrDot ? text : text.slice(0, -1));
  }
  const special = SPECIAL_DOUBLE.exec(text);
  if (special) {
    const magnitude = special[2] === 'NaN' ? NaN : Infinity;
    return special[1] === '-' ? -magnitude : magnitude;
  }
  const hex = HEX_DOUBLE.exec(text);
  if (hex && hex[2]!.length + hex[3]!.length > 0) {
    const magnitude = hexMagnitude(BigInt(`0x${hex[2]}${hex[3]}`), Number(hex[4]) - 4 * hex[3]!.length);
    return hex[1] === '-' ? -magnitude : magnitude;
  }
  throw EVALUATION_FAILED;
}

/** mantissa × 2^exponent, rounded once (mantissa bits beyond 60 fold into a sticky bit). */
function hexMagnitude(mantissa: bigint, exponent: number): number {
  if (mantissa === 0n) return 0;
  const excess = mantissa.toString(2).length - 60;
  if (excess > 0) {
    const kept = mantissa >> BigInt(excess);
    mantissa = kept << BigInt(excess) === mantissa ? kept : kept | 1n;
    exponent += excess;
  }
  const half = Math.trunc(exponent / 2);
  return Number(mantissa) * 2 ** half * 2 ** (exponent - half);
}

/** Boolean.valueOf(String): "true" in any case is true, everything else false. */
export function parseJavaBoolean(text: string): boolean {
  return text.length === 4 && text.toLowerCase() === 'true';
}

function javaTrim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 0x20) start++;
  while (end > start && text.charCodeAt(end - 1) <= 0x20) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** Double.compare: a total order where -0.0 < 0.0 and NaN is above everything, equal to itself. */
export function compareDoubles(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) {
    if (a !== 0) return 0;
    const aNegative = Object.is(a, -0);
    return aNegative === Object.is(b, -0) ? 0 : aNegative ? -1 : 1;
  }
  const aNaN = Number.isNaN(a);
  return aNaN && Number.isNaN(b) ? 0 : aNaN ? 1 : -1;
}

function compareOrdered(a: number | bigint | string, b: number | bigint | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareBooleans(a: boolean, b: boolean): number {
  return a === b ? 0 : a ? 1 : -1;
}

function asDouble(value: JavaNumber): number {
  return typeof value.value === 'bigint' ? Number(value.value) : value.value;
}

/** Parses `text` with the `valueOf` of `like`'s type and compares it with `like`, `text` on the left. */
function compareParsed(text: string, like: JavaNumber): number {
  switch (like.kind) {
    case 'int':
      return compareOrdered(parseJavaInt(text), like.value);
    case 'long':
      return compareOrdered(parseJavaLong(text), like.value);
    case 'double':
      return compareDoubles(parseJavaDouble(text), like.value);
  }
}

/**
 * ComparisonExpression.__compare with string conversion on: values of one type compare naturally;
 * otherwise the narrower number widens, a string is parsed as the other side's type, and any other
 * mix compares as "less" (-1). A Boolean on the left against a string fails (Java's bad cast).
 */
export function compareJava(left: boolean | string | JavaNumber, right: boolean | string | JavaNumber): number {
  if (typeof left === 'string') {
    if (typeof right === 'string') return compareOrdered(left, right);
    if (typeof right === 'boolean') return compareBooleans(parseJavaBoolean(left), right);
    return compareParsed(left, right);
  }
  if (typeof left === 'boolean') {
    if (typeof right === 'boolean') return compareBooleans(left, right);
    if (typeof right === 'string') throw EVALUATION_FAILED;
    return -1;
  }
  if (typeof right === 'boolean') return -1;
  if (typeof right === 'string') return -compareParsed(right, left);
  if (left.kind === 'double' || right.kind === 'double') return compareDoubles(asDouble(left), asDouble(right));
  // int and long compare exactly: JavaScript orders a number against a bigint mathematically
  return compareOrdered(left.value, right.value);
}

/** UnaryExpression.negate: numbers negate within their Java type; anything else becomes null. */
export function negateJava(value: JavaValue): JavaValue {
  if (value === null || typeof value !== 'object') return null;
  switch (value.kind) {
    case 'int':
      return intValue(-value.value | 0);
    case 'long':
      return longValue(BigInt.asIntN(64, -value.value));
    case 'double':
      return doubleValue(-value.value);
  }
}
