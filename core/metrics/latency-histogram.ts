import { familyHeader, formatValue, labelText, type ExpositionWriter } from './exposition.ts';
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
  /** The label text of its lines, rendered once: per bucket (with `le`), then the one of `_sum` and `_count`. */
  readonly lineLabels: readonly Buffer[];

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Labels,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
    const les = [...bounds.map((b) => `le="${formatValue(b)}"`), 'le="+Inf"'];
    this.lineLabels = [...les.map((le) => Buffer.from(labelText(labels, le))), Buffer.from(labelText(labels))];
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

/**
 * A Prometheus histogram whose series are resolved once (at start) and observed without label
 * lookups, for request and fsync latencies on hot paths.
 */
export class LatencyHistogram {
  private readonly series = new Map<string, HistogramSeries>();
  private readonly bounds: readonly number[];
  private readonly header: Buffer;
  private readonly names: Readonly<Record<'bucket' | 'sum' | 'count', Buffer>>;

  constructor(readonly spec: HistogramSpec) {
    this.bounds = [...(spec.buckets ?? LATENCY_BUCKETS)].sort((a, b) => a - b);
    this.header = Buffer.from(familyHeader(spec.name, spec.help, 'histogram'));
    this.names = { bucket: Buffer.from(`${spec.name}_bucket`), sum: Buffer.from(`${spec.name}_sum`), count: Buffer.from(`${spec.name}_count`) };
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

  /** Writes per series the cumulative buckets, then sum and count. */
  writeTo(out: ExpositionWriter): void {
    const { bucket, sum, count } = this.names;
    const buckets = this.bounds.length + 1;
    out.copy(this.header);
    for (const series of this.series.values()) {
      const labels = series.lineLabels;
      let cumulative = 0;
      for (let i = 0; i < buckets; i++) {
        cumulative += series.counts[i]!;
        out.sample(bucket, labels[i]!, cumulative);
      }
      out.sample(sum, labels[buckets]!, series.sum);
      out.sample(count, labels[buckets]!, series.count);
    }
  }
}
