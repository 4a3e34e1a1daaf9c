/** A header value with its wire type; values of different types never compare equal (RabbitMQ's rule). */
export interface TypedValue {
  type: string;
  value: unknown;
}

export type HeadersMatch = 'all' | 'any' | 'all-with-x' | 'any-with-x';

/**
 * A headers-exchange binding: `x-match` all (default) or any, and the `-with-x` forms that also
 * compare `x-` keys. A binding argument of void type matches the key's presence alone.
 */
export function headersMatch(mode: HeadersMatch, binding: ReadonlyMap<string, TypedValue>, headers: ReadonlyMap<string, TypedValue> | undefined): boolean {
  const withX = mode === 'all-with-x' || mode === 'any-with-x';
  const any = mode === 'any' || mode === 'any-with-x';
  for (const [key, expected] of binding) {
    if (key === 'x-match' || (!withX && key.startsWith('x-'))) continue;
    const actual = headers?.get(key);
    const matches = actual !== undefined && (expected.type === 'V' || sameValue(expected, actual));
    if (any && matches) return true;
    if (!any && !matches) return false;
  }
  return !any;
}

/** Type-and-value equality for header values (Buffers by bytes, arrays and tables element-wise). */
export function sameValue(a: TypedValue, b: TypedValue): boolean {
  if (a.type !== b.type) return false;
  return deepEqual(a.value, b.value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x as TypedValue, b[i] as TypedValue));
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !sameValue(v as TypedValue, b.get(k) as TypedValue)) return false;
    return true;
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) return JSON.stringify(a) === JSON.stringify(b);
  return Number.isNaN(a) && Number.isNaN(b);
}
