export type Cell = string | number | boolean | null | undefined;

const BYTES = /^\d[\d.]* [KMGT]?i?B$/;

/** A plain-text table: a header row, columns padded to their widest cell, numbers (and byte sizes) right-aligned; null shows as `-`. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))));
  const numeric = headers.map((_, c) => rows.length > 0 && rows.every((row) => typeof row[c] === 'number' || row[c] === null || row[c] === undefined || BYTES.test(String(row[c]))));
  const widths = headers.map((h, c) => Math.max(h.length, ...text.map((row) => row[c]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...text.map(line)].join('\n');
}

/** `name: value` lines with the names aligned. */
export function fields(pairs: ReadonlyArray<readonly [string, Cell]>): string {
  const width = Math.max(...pairs.map(([name]) => name.length));
  return pairs.map(([name, value]) => `${`${name}:`.padEnd(width + 1)} ${value === null || value === undefined ? '-' : String(value)}`).join('\n');
}

/** Bytes in IEC units (B, KiB, MiB, ...), one decimal above 1 KiB. */
export function bytes(n: number | null | undefined): string | null {
  if (n === null || n === undefined) return null;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}
