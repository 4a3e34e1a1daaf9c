import type { Clock, Timer } from '../../../core/index.ts';

/** RabbitMQ's default `collect_statistics_interval`. */
export const SAMPLE_INTERVAL_MS = 5000;

interface Sample {
  at: number;
  values: Map<string, number>;
}

/**
 * RabbitMQ's `*_details.rate` (rates_mode basic): named totals are sampled every interval, and a rate is the
 * change per second between the last two samples (0 until there are two).
 */
export class MessageRates {
  private previous: Sample | undefined;
  private latest: Sample | undefined;
  private timer: Timer | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly read: () => Map<string, number>,
    private readonly intervalMs = SAMPLE_INTERVAL_MS,
  ) {}

  start(): void {
    this.sample();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Change per second of the named total between the last two samples. */
  rate(name: string): number {
    const { previous, latest } = this;
    if (!previous || !latest || latest.at === previous.at) return 0;
    return ((latest.values.get(name) ?? 0) - (previous.values.get(name) ?? 0)) / ((latest.at - previous.at) / 1000);
  }

  /** `{ name: n, name_details: { rate } }` for each total, as RabbitMQ writes counters and gauges; `key` names a total's samples. */
  withDetails(values: Record<string, number>, key: (name: string) => readonly string[] = (name) => [name]): Record<string, number | { rate: number }> {
    const out: Record<string, number | { rate: number }> = {};
    for (const [name, value] of Object.entries(values)) {
      out[name] = value;
      out[`${name}_details`] = { rate: key(name).reduce((sum, k) => sum + this.rate(k), 0) };
    }
    return out;
  }

  private sample(): void {
    this.previous = this.latest;
    this.latest = { at: this.clock.monotonic(), values: this.read() };
    this.timer = this.clock.setTimeout(() => this.sample(), this.intervalMs);
  }
}
