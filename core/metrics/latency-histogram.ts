import type { Labels } from './scrape-family.ts';

/** Request latencies, seconds: 100 µs to 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface HistogramSpec {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly buckets?: readonly number[];
}

/** One labelled series: observing is a bucket search and three additions, no allocation. */
export class HistogramSeries {
  /** Per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Labels,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }

  /** Observes the time since `startMs` (a `performance.now()` reading). */
  observeSince(startMs: number): void {
    this.observe((performance.now() - startMs) / 1000);
  }
}

interface Sample {
  value: number;
  labels: Labels;
  metricName: string;
}

/**
 * A Prometheus histogram whose series are resolved once (at start) and observed without label
 * lookups, for request and fsync latencies on hot paths. Speaks prom-client's metric interface.
 */
export class LatencyHistogram {
  private readonly series = new Map<string, HistogramSeries>();
  private readonly bounds: readonly number[];
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(readonly spec: HistogramSpec) {
    this.bounds = [...(spec.buckets ?? LATENCY_BUCKETS)].sort((a, b) => a - b);
  }

  get name(): string {
    return this.spec.name;
  }

  get help(): string {
    return this.spec.help;
  }

  /** The series for these labels, created on first use; keep it and observe it directly. */
  labels(labels: Labels = {}): HistogramSeries {
    const key = this.spec.labelNames.map((name) => String(labels[name] ?? '')).join('\u0000');
    let series = this.series.get(key);
    if (!series) {
      series = new HistogramSeries(this.bounds, { ...labels });
      this.series.set(key, series);
    }
    return series;
  }

  /** prom-client calls this on every scrape: cumulative buckets, then sum and count, per series. */
  get(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] } {
    const values: Sample[] = [];
    const { name } = this.spec;
    for (const series of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += series.counts[i]!;
        values.push({ value: cumulative, labels: { ...series.labels, le: i < this.bounds.length ? this.bounds[i]! : '+Inf' }, metricName: `${name}_bucket` });
      }
      values.push({ value: series.sum, labels: series.labels, metricName: `${name}_sum` });
      values.push({ value: series.count, labels: series.labels, metricName: `${name}_count` });
    }
    return { name, help: this.spec.help, type: 'histogram', aggregator: 'sum', values };
  }

  reset(): void {}
}
