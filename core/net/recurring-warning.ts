import type { Logger } from '../logging.ts';

/**
 * A warning that comes in bursts (refused connections, descriptors running out): logged when it first
 * happens, then at most once per interval, with how many times it happened in between.
 */
export class RecurringWarning {
  private last = -Infinity;
  private unreported = 0;

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
    private readonly intervalMs = 10_000,
  ) {}

  note(details: Record<string, unknown>): void {
    this.unreported++;
    const now = Date.now();
    if (now - this.last < this.intervalMs) return;
    this.logger.warn({ ...details, times: this.unreported }, this.message);
    this.last = now;
    this.unreported = 0;
  }
}
