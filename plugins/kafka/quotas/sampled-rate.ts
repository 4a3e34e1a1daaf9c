/** Kafka's quota.window.num and quota.window.size.seconds defaults. */
export const QUOTA_SAMPLES = 11;
export const QUOTA_SAMPLE_MS = 1000;

/**
 * Kafka's Rate over a SampledStat (the quota sensors' metric): a fixed ring of samples, each covering
 * QUOTA_SAMPLE_MS from its first record; samples older than the whole window are dropped. The window a rate
 * is measured over is at least QUOTA_SAMPLES - 1 full samples, so a new client is not judged on its first
 * burst alone.
 */
export class SampledRate {
  private readonly starts = new Float64Array(QUOTA_SAMPLES);
  private readonly values = new Float64Array(QUOTA_SAMPLES);
  private current = 0;
  lastRecordMs = 0;

  constructor(now: number) {
    this.starts.fill(-Infinity);
    this.starts[0] = now;
  }

  record(value: number, now: number): void {
    if (now - this.starts[this.current]! >= QUOTA_SAMPLE_MS) {
      this.current = (this.current + 1) % QUOTA_SAMPLES;
      this.starts[this.current] = now;
      this.values[this.current] = 0;
    }
    this.values[this.current]! += value;
    this.lastRecordMs = now;
  }

  /** Takes back a recorded value (a throttled fetch whose records are not sent), as Kafka's unrecord. */
  unrecord(value: number): void {
    this.values[this.current]! -= value;
  }

  /** The rate per second now, and the window (ms) it was measured over. */
  measure(now: number): { perSecond: number; windowMs: number } {
    let total = 0;
    let oldest = now;
    for (let i = 0; i < QUOTA_SAMPLES; i++) {
      if (now - this.starts[i]! >= QUOTA_SAMPLES * QUOTA_SAMPLE_MS) continue;
      total += this.values[i]!;
      oldest = Math.min(oldest, this.starts[i]!);
    }
    let windowMs = now - oldest;
    const fullSamples = Math.floor(windowMs / QUOTA_SAMPLE_MS);
    if (fullSamples < QUOTA_SAMPLES - 1) windowMs += (QUOTA_SAMPLES - 1 - fullSamples) * QUOTA_SAMPLE_MS;
    windowMs = Math.max(windowMs, 1);
    return { perSecond: total / (windowMs / 1000), windowMs };
  }
}

/** Kafka's QuotaUtils.throttleTime: how long the client must wait for its rate to come back to the bound. */
export function throttleTimeMs(rate: { perSecond: number; windowMs: number }, bound: number): number {
  if (rate.perSecond <= bound) return 0;
  return Math.round(((rate.perSecond - bound) / bound) * rate.windowMs);
}
