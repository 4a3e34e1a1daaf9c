import type { Labels } from './scrape-family.ts';

/**
 * Prometheus text exposition (0.0.4), written line by line into buffers. A scrape of 10,000 partitions
 * is tens of thousands of series: built as one string, its pieces all survive until the end and every
 * young-generation GC copies them again (hundreds of ms per scrape); written away at once, each line is
 * garbage that dies young.
 */
export class ExpositionWriter {
  private static readonly CHUNK_BYTES = 1024 * 1024;
  /** Lines are gathered into a short string first: one buffer write per ~16 KiB, not per line. */
  private static readonly PENDING_CHARS = 16 * 1024;
  private readonly chunks: Array<{ bytes: Buffer; used: number }> = [];
  private pending = '';

  write(text: string): void {
    this.pending += text;
    if (this.pending.length >= ExpositionWriter.PENDING_CHARS) this.flush();
  }

  /** Where the text ends now, to cut back to with `truncate`. */
  mark(): { chunk: number; used: number } {
    this.flush();
    return { chunk: this.chunks.length - 1, used: this.chunks[this.chunks.length - 1]?.used ?? 0 };
  }

  truncate(mark: { chunk: number; used: number }): void {
    this.pending = '';
    this.chunks.length = Math.max(0, mark.chunk + 1);
    if (mark.chunk >= 0) this.chunks[mark.chunk]!.used = mark.used;
  }

  toBuffer(): Buffer {
    this.flush();
    return Buffer.concat(this.chunks.map((c) => c.bytes.subarray(0, c.used)));
  }

  private flush(): void {
    const text = this.pending;
    if (text === '') return;
    this.pending = '';
    let last = this.chunks[this.chunks.length - 1];
    if (!last || text.length * 3 > last.bytes.length - last.used) {
      last = { bytes: Buffer.allocUnsafe(Math.max(ExpositionWriter.CHUNK_BYTES, text.length * 3)), used: 0 };
      this.chunks.push(last);
    }
    last.used += last.bytes.write(text, last.used);
  }
}

/** `# HELP` and `# TYPE` lines of a family. */
export function familyHeader(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'))}\n# TYPE ${name} ${type}\n`;
}

/** One sample line: `name{a="x",b="y"} value`, with `extra` (e.g. `le="0.1"`, preformatted) after the labels. */
export function sampleLine(name: string, labels: Labels, value: number, extra = ''): string {
  let line = name;
  let first = true;
  for (const key in labels) {
    const raw = labels[key]!;
    const text = typeof raw === 'number' ? String(raw) : NEEDS_ESCAPE.test(raw) ? raw.replace(NEEDS_ESCAPE, escapeChar) : raw;
    line += `${first ? '{' : ','}${key}="${text}"`;
    first = false;
  }
  if (extra !== '') line += first ? `{${extra}` : `,${extra}`;
  else if (first) return `${line} ${formatValue(value)}\n`;
  return `${line}} ${formatValue(value)}\n`;
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
