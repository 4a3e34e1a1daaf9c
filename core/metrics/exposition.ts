import type { Labels } from './scrape-family.ts';

/** Where a writer's text ended, to cut back to (`truncate`) or to keep what followed (`keepSince`). */
export interface WriterMark {
  readonly used: number;
  readonly kept: number;
}

let scrapes = 0;

/** Kept lines shorter than this are copied into the answer; longer ones are sent from where they are kept. */
const KEPT_BY_REFERENCE = 1024;

/**
 * Prometheus text exposition (0.0.4), written as bytes. A scrape of 10,000 partitions is tens of thousands
 * of series: a sample line is copied from bytes rendered once (the family's name, the series' `LabelSet`)
 * and its value's digits, so a scrape makes no string or object per series. The lines of a block that
 * did not change since the last scrape are not written at all: the answer is a list of chunks that sends
 * the block's kept buffer as it is (`writeKept`), so an idle broker's scrape copies little more than its
 * headers. The buffer for the rest grows and is reused from scrape to scrape.
 */
export class ExpositionWriter {
  /** Differs from every other scrape's (a new one at each `reset`): state that several families read is read once per scrape. */
  scrape = ++scrapes;
  private bytes = Buffer.allocUnsafe(64 * 1024);
  private used = 0;
  /** Kept buffers written by reference, and where in the written bytes each one goes. */
  private readonly kept: Buffer[] = [];
  private readonly keptAt: number[] = [];

  /** Writes text (any characters: UTF-8). */
  write(text: string): void {
    this.reserve(text.length * 3);
    this.used += this.bytes.write(text, this.used);
  }

  /** Writes bytes rendered before (a name, a label set). */
  copy(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.used);
    this.used += bytes.length;
  }

  /** Writes bytes that are never changed once made (a block's kept lines): long ones go into the answer by reference. */
  writeKept(bytes: Buffer): void {
    if (bytes.length < KEPT_BY_REFERENCE) return this.copy(bytes);
    this.kept.push(bytes);
    this.keptAt.push(this.used);
  }

  /** One sample line: `name`, the label text (`{a="x"}` or empty), a space, the value, a newline. */
  sample(name: Uint8Array, labels: Uint8Array, value: number): void {
    this.reserve(name.length + labels.length + 32);
    const bytes = this.bytes;
    bytes.set(name, this.used);
    bytes.set(labels, this.used + name.length);
    let at = this.used + name.length + labels.length;
    bytes[at++] = SPACE;
    at = Number.isSafeInteger(value) ? writeInteger(bytes, at, value) : at + bytes.write(formatValue(value), at, 'latin1');
    bytes[at++] = NEWLINE;
    this.used = at;
  }

  /** Where the text ends now. */
  mark(): WriterMark {
    return { used: this.used, kept: this.kept.length };
  }

  /** Cuts the text back to `mark`. */
  truncate(mark: WriterMark): void {
    this.used = mark.used;
    this.kept.length = this.keptAt.length = mark.kept;
  }

  /**
   * A copy of the bytes written since `mark` (samples only, nothing kept by reference), to keep for later
   * scrapes; the text is unchanged (a long copy replaces the bytes written, as a reference).
   */
  keepSince(mark: WriterMark): Buffer {
    const lines = Buffer.allocUnsafe(this.used - mark.used);
    this.bytes.copy(lines, 0, mark.used, this.used);
    if (lines.length >= KEPT_BY_REFERENCE) {
      this.truncate(mark);
      this.writeKept(lines);
    }
    return lines;
  }

  /** Starts over, keeping the buffer for the next scrape. */
  reset(): void {
    this.scrape = ++scrapes;
    this.used = 0;
    this.kept.length = this.keptAt.length = 0;
  }

  /**
   * The text written, as chunks to send in order: the bytes written here copied out once, the kept
   * buffers as they are. The chunks are the caller's: later scrapes change none of them.
   */
  chunks(): Buffer[] {
    const own = Buffer.allocUnsafe(this.used);
    this.bytes.copy(own, 0, 0, this.used);
    const chunks: Buffer[] = [];
    let from = 0;
    for (let i = 0; i < this.kept.length; i++) {
      const at = this.keptAt[i]!;
      if (at > from) chunks.push(own.subarray(from, at));
      chunks.push(this.kept[i]!);
      from = at;
    }
    if (this.used > from) chunks.push(own.subarray(from));
    return chunks;
  }

  /** The text written, in one buffer. */
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks());
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + bytes));
    this.bytes.copy(grown, 0, 0, this.used);
    this.bytes = grown;
  }
}

const SPACE = 0x20;
const NEWLINE = 0x0a;
const ZERO = 0x30;
const MINUS = 0x2d;

/** The decimal digits of a safe integer, as `String(value)` writes them (-0 as 0); returns the end. */
function writeInteger(bytes: Buffer, at: number, value: number): number {
  if (value < 0) {
    bytes[at++] = MINUS;
    value = -value;
  }
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  const end = at + digits;
  for (let i = end - 1; i >= at; i--) {
    bytes[i] = ZERO + (value % 10);
    value = Math.floor(value / 10);
  }
  return end;
}

/** `# HELP` and `# TYPE` lines of a family. */
export function familyHeader(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'))}\n# TYPE ${name} ${type}\n`;
}

/** The label part of a sample line, `{a="x",b="y"}` with values escaped, `extra` (e.g. `le="0.1"`, preformatted) last; empty without labels. */
export function labelText(labels: Labels, extra = ''): string {
  let text = '';
  for (const key in labels) {
    const raw = labels[key]!;
    const value = typeof raw === 'number' ? String(raw) : NEEDS_ESCAPE.test(raw) ? raw.replace(NEEDS_ESCAPE, escapeChar) : raw;
    text += `${text === '' ? '{' : ','}${key}="${value}"`;
  }
  if (extra !== '') text += text === '' ? `{${extra}` : `,${extra}`;
  return text === '' ? '' : `${text}}`;
}

const NEEDS_ESCAPE = /[\\"\n]/g;

function escapeChar(c: string): string {
  return c === '\n' ? '\\n' : `\\${c}`;
}

export function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}
