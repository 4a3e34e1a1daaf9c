/** A header value with its wire type. */
export interface TypedValue {
  type: string;
  value: unknown;
}

export type HeadersMatch = 'all' | 'any' | 'all-with-x' | 'any-with-x';

/**
 * A headers-exchange binding: `x-match` all (default) or any, and the `-with-x` forms that also
 * compare `x-` keys. A binding argument of void type matches the key's presence alone; other values
 * match as RabbitMQ 3.10 compares them (`equalValues`), whatever their wire types.
 */
export function headersMatch(mode: HeadersMatch, binding: ReadonlyMap<string, TypedValue>, headers: ReadonlyMap<string, TypedValue> | undefined): boolean {
  const withX = mode === 'all-with-x' || mode === 'any-with-x';
  const any = mode === 'any' || mode === 'any-with-x';
  for (const [key, expected] of binding) {
    if (key === 'x-match' || (!withX && key.startsWith('x-'))) continue;
    const actual = headers?.get(key);
    const matches = actual !== undefined && (expected.type === 'V' || equalValues(expected.value, actual.value));
    if (any && matches) return true;
    if (!any && !matches) return false;
  }
  return !any;
}

/**
 * Erlang's `==` on decoded field values, which is how RabbitMQ compares them: numbers by value across
 * integer widths, floats and timestamps; strings by bytes; arrays and tables element by element, where
 * each element's type must also be the same.
 */
export function equalValues(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const aNumber = typeof a === 'number' || typeof a === 'bigint';
  const bNumber = typeof b === 'number' || typeof b === 'bigint';
  if (aNumber || bNumber) return aNumber && bNumber && equalNumbers(a, b);
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equalTerms(x as TypedValue, b[i] as TypedValue));
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    const bEntries = [...(b as Map<string, TypedValue>)];
    return [...(a as Map<string, TypedValue>)].every(([k, v], i) => bEntries[i]![0] === k && equalTerms(v, bEntries[i]![1]));
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) return JSON.stringify(a) === JSON.stringify(b);
  return false;
}

/** Same type and equal values: how Erlang compares the `{Type, Value}` elements of arrays and tables. */
function equalTerms(a: TypedValue, b: TypedValue): boolean {
  return a.type === b.type && equalValues(a.value, b.value);
}

function equalNumbers(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a === b;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  const big = (typeof a === 'bigint' ? a : b) as bigint;
  const other = (typeof a === 'bigint' ? b : a) as number;
  return Number.isInteger(other) ? BigInt(other) === big : Number(big) === other;
}
