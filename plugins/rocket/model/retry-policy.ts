import { BrokerError } from '../../../core/index.ts';

/** How a consumer group retries: attempts in all (first delivery included), and the wait before each retry. */
export interface RetryPolicySpec {
  maxAttempts?: number;
  backoffMs?: number[] | { initialMs: number; maxMs: number; multiplier: number };
}

/** RocketMQ's default retry schedule: delay levels 3-18 (10s 30s 1m 2m ... 2h), about 4 h 46 min in all. */
export const ROCKETMQ_RETRY_SCHEDULE_MS = [10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200].map((s) => s * 1000);
/** retryMaxTimes 16 + the first delivery. */
export const DEFAULT_MAX_ATTEMPTS = 17;

export class RetryPolicy {
  static readonly default = new RetryPolicy({});

  readonly maxAttempts: number;
  private readonly schedule: number[] | undefined;
  private readonly exponential: { initialMs: number; maxMs: number; multiplier: number } | undefined;

  constructor(spec: RetryPolicySpec) {
    this.maxAttempts = spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (Array.isArray(spec.backoffMs) || spec.backoffMs === undefined) this.schedule = spec.backoffMs ?? ROCKETMQ_RETRY_SCHEDULE_MS;
    else this.exponential = spec.backoffMs;
  }

  /** The wait after delivery attempt `attempt` (1-based) failed. */
  backoffMs(attempt: number): number {
    const n = Math.max(1, attempt);
    if (this.schedule) return this.schedule[Math.min(n, this.schedule.length) - 1] ?? 0;
    const { initialMs, maxMs, multiplier } = this.exponential!;
    return Math.min(initialMs * multiplier ** (n - 1), maxMs);
  }

  /**
   * The policy as Settings.backoff_policy. The Node SDK implements only the exponential form and reads its
   * `seconds` as milliseconds, so it gets an exponential form in its own units; other SDKs get the exact form.
   */
  toSettings(nodeClient: boolean): Record<string, unknown> {
    const duration = (ms: number) => (nodeClient ? { seconds: Math.round(ms), nanos: 0 } : { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
    if (this.schedule && !nodeClient) return { maxAttempts: this.maxAttempts, customizedBackoff: { next: this.schedule.map(duration) } };
    const { initialMs, maxMs, multiplier } = this.exponential ?? { initialMs: this.schedule![0] ?? 0, maxMs: this.schedule!.at(-1) ?? 0, multiplier: 2 };
    return { maxAttempts: this.maxAttempts, exponentialBackoff: { initial: duration(initialMs), max: duration(maxMs), multiplier } };
  }
}

export function checkRetryPolicy(spec: RetryPolicySpec, where: string): void {
  const fail = (why: string) => new BrokerError('CONFIG_INVALID', `${where}: ${why}`);
  if (spec.maxAttempts !== undefined && !(Number.isInteger(spec.maxAttempts) && spec.maxAttempts >= 1)) throw fail('maxAttempts must be a positive integer');
  const backoff = spec.backoffMs;
  if (backoff === undefined) return;
  if (Array.isArray(backoff)) {
    if (backoff.length === 0 || !backoff.every((ms) => Number.isFinite(ms) && ms >= 0)) throw fail('backoffMs must list non-negative delays');
  } else if (!(backoff.initialMs >= 0 && backoff.maxMs >= backoff.initialMs && backoff.multiplier >= 1)) {
    throw fail('backoffMs needs initialMs >= 0, maxMs >= initialMs, multiplier >= 1');
  }
}
