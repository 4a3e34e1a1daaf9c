import type { OpenFileLimit } from './open-file-limit.ts';

/** Descriptors kept from connections for segment files, indexes and the like: RabbitMQ's rule, 100 plus 10%. */
export function connectionsWithin(openFiles: OpenFileLimit | undefined): number {
  if (!openFiles || !Number.isFinite(openFiles.soft)) return Infinity;
  return Math.max(1, Math.floor((openFiles.soft - 100) * 0.9));
}

/**
 * The connections every listener of the process may hold together, so that a flood on one port cannot
 * take the descriptors the broker needs for files (or the other ports need). A listener takes one
 * unit per accepted socket and gives it back when the socket closes.
 */
export class ConnectionBudget {
  readonly limit: number;
  private held = 0;

  /** `configured` 0 means: derived from the open-file limit. */
  constructor(
    configured: number,
    readonly openFiles: OpenFileLimit | undefined,
  ) {
    this.limit = configured > 0 ? configured : connectionsWithin(openFiles);
  }

  get inUse(): number {
    return this.held;
  }

  /** Takes a unit if one is left. */
  tryAcquire(): boolean {
    if (this.held >= this.limit) return false;
    this.held++;
    return true;
  }

  release(): void {
    this.held--;
  }

  /** More connections than the open-file limit leaves room for: descriptors may run out (EMFILE) first. */
  get exceedsOpenFiles(): boolean {
    return this.limit > connectionsWithin(this.openFiles);
  }

  /** For the readiness line: `connections max 831 (open files 1024)`. */
  describe(): string {
    const limit = Number.isFinite(this.limit) ? `max ${this.limit}` : 'unlimited';
    const files = this.openFiles ? `open files ${Number.isFinite(this.openFiles.soft) ? this.openFiles.soft : 'unlimited'}` : 'open-file limit unknown';
    return `connections ${limit} (${files})`;
  }
}
