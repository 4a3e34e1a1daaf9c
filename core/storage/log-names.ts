import type { LogId } from './partition-log.ts';

const SAFE = /^[A-Za-z0-9._-]$/;

/** `<topic>-<partition>` as Kafka names log directories, with unsafe characters percent-encoded. */
export function logDirName({ topic, partition }: LogId): string {
  let encoded = '';
  for (const ch of topic) {
    encoded += SAFE.test(ch) ? ch : [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  if (encoded.startsWith('.')) encoded = `%2E${encoded.slice(1)}`;
  return `${encoded}-${partition}`;
}

export function parseLogDirName(name: string): LogId | undefined {
  const match = /^(.+)-(\d+)$/.exec(name);
  if (!match) return undefined;
  try {
    return { topic: decodeURIComponent(match[1]!), partition: Number(match[2]) };
  } catch {
    return undefined;
  }
}

/** Segment files are named by their base offset, zero-padded to 20 digits. */
export function segmentFileName(baseOffset: number, suffix: '.log' | '.index' | '.timeindex'): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

/** A segment the compactor is writing; deleted on open if a crash left it behind. */
export function cleanedFileName(baseOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}.log.cleaned`;
}

/**
 * A cleaned segment that replaces the segments in [baseOffset, endOffset): once it exists under this name
 * the replacement is decided, and opening the log completes it.
 */
export function swapFileName(baseOffset: number, endOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}-${String(endOffset).padStart(20, '0')}.swap`;
}

export function parseSwapFileName(name: string): { baseOffset: number; endOffset: number } | undefined {
  const match = /^(\d{20})-(\d{20})\.swap$/.exec(name);
  return match ? { baseOffset: Number(match[1]), endOffset: Number(match[2]) } : undefined;
}

/**
 * A file of a segment a compaction replaced, deleted file.delete.delay.ms later (Kafka's asyncDeleteSegment).
 * `sequence` keeps apart the files of passes within that delay (each pass replaces the same first base offset).
 */
export function deletedFileName(name: string, sequence: number): string {
  return `${name}.${sequence}.deleted`;
}

export function isDeletedFileName(name: string): boolean {
  return name.endsWith('.deleted');
}

export function isCleanedFileName(name: string): boolean {
  return /^\d{20}\.log\.cleaned$/.test(name);
}

/** The base offset of a segment's .log, .index or .timeindex file. */
export function parseSegmentFilesName(name: string): number | undefined {
  const match = /^(\d{20})\.(log|index|timeindex)$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

export function parseSegmentFileName(name: string): number | undefined {
  const match = /^(\d{20})\.log$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Producer-state snapshots are named by the offset they reflect the log up to, as Kafka's `<offset>.snapshot`. */
export function snapshotFileName(offset: number): string {
  return `${String(offset).padStart(20, '0')}.snapshot`;
}

export function parseSnapshotFileName(name: string): number | undefined {
  const match = /^(\d{20})\.snapshot$/.exec(name);
  return match ? Number(match[1]) : undefined;
}
