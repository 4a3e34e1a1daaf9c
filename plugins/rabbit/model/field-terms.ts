import { equalValues } from '../../../core/index.ts';
import type { FieldValue } from '../codec/index.ts';

/** Field values as RabbitMQ (Erlang) names, compares and prints them in its reply texts. */

const TYPE_NAMES: Record<FieldValue['type'], string> = {
  t: 'bool',
  b: 'byte',
  B: 'unsignedbyte',
  s: 'short',
  u: 'unsignedshort',
  I: 'signedint',
  i: 'unsignedint',
  l: 'long',
  T: 'timestamp',
  f: 'float',
  d: 'double',
  D: 'decimal',
  S: 'longstr',
  x: 'binary',
  A: 'array',
  F: 'table',
  V: 'void',
};

export function typeName(value: FieldValue): string {
  return TYPE_NAMES[value.type];
}

/** Integer widths (and decimals) form one class, floats another; every other type is its own. */
function typeClass(type: FieldValue['type']): string {
  return 'bBsuIilD'.includes(type) ? 'int' : type === 'f' || type === 'd' ? 'float' : type;
}

/** Argument equivalence on redeclaration: same type class and `==` values (5 as a byte equals 5 as a long). */
export function equivalentArguments(a: FieldValue, b: FieldValue): boolean {
  return typeClass(a.type) === typeClass(b.type) && equalValues(a.value, b.value);
}

/** A value as `~s` (strings) or `~p` (anything else) prints it. */
export function printValue(value: FieldValue): string {
  return value.type === 'S' || value.type === 'x' ? value.value.toString('utf8') : printTerm(value);
}

/** The `~p` form of a decoded value: integers, Erlang floats, atoms, tuples, and lists of `{Type, Value}`. */
export function printTerm(v: FieldValue): string {
  switch (v.type) {
    case 'S':
    case 'x':
      return printBinary(v.value);
    case 'f':
    case 'd':
      return erlangFloat(v.value);
    case 'D':
      return `{${v.value.scale},${v.value.digits}}`;
    case 'V':
      return 'undefined';
    case 'A':
      return `[${v.value.map((e) => `{${typeName(e)},${printTerm(e)}}`).join(',')}]`;
    case 'F':
      return `[${[...v.value].map(([k, e]) => `{${printBinary(Buffer.from(k))},${typeName(e)},${printTerm(e)}}`).join(',')}]`;
    default:
      return String(v.value);
  }
}

function printBinary(bytes: Buffer): string {
  const printable = bytes.every((b) => (b >= 32 && b < 127) || b >= 160);
  return printable ? `<<${JSON.stringify(bytes.toString('latin1'))}>>` : `<<${[...bytes].join(',')}>>`;
}

/**
 * Erlang's shortest float text: the shortest digits that read back, written in fixed notation when
 * that is no longer than the exponent form (and the value is below 2^53), e.g. 5.0, 0.001, 1.5e3, 1.0e-5.
 */
export function erlangFloat(n: number): string {
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [mantissa, exponentText] = Math.abs(n).toExponential().split('e');
  const digits = mantissa!.replace('.', '');
  const exponent = Number(exponentText);
  const sign = n < 0 ? '-' : '';
  const scientific = `${digits[0]}.${digits.slice(1) || '0'}e${exponent}`;
  const place = exponent - digits.length + 1;
  let fixed: string;
  if (place >= 0) {
    if (Math.abs(n) >= 2 ** 53) return sign + scientific;
    fixed = `${digits}${'0'.repeat(place)}.0`;
    if (place === 0) return sign + fixed;
  } else if (exponent >= 0) return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  else fixed = `0.${'0'.repeat(-exponent - 1)}${digits}`;
  return sign + (fixed.length <= scientific.length ? fixed : scientific);
}
