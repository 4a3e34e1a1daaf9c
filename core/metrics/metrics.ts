import { createRequire } from 'node:module';
import { inject, injectable } from 'inversify';
import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';
import { BrokerError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { TOKENS } from '../tokens.ts';
import { LatencyHistogram, type HistogramSpec } from './latency-histogram.ts';
import { ScrapeFamily, type FamilySpec } from './scrape-family.ts';

/** Wharf's version, from its package.json. */
export const WHARF_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/**
 * The broker's one prom-client registry. Protocol plugins and core services add to it: families
 * computed at scrape time from state they keep anyway (`family`), latency histograms observed
 * without label lookups (`histogram`), or any prom-client metric of their own (`registry`).
 * Each broker has its own registry, so several brokers can share a process.
 */
@injectable()
export class Metrics {
  readonly registry = new Registry();
  private processMetrics = false;

  constructor(@inject(TOKENS.Logger) private readonly logger: Logger) {}

  /** The family of this name, created on first use; a second spec that differs is an error. */
  family(spec: FamilySpec): ScrapeFamily {
    const existing = this.registry.getSingleMetric(spec.name) as unknown;
    if (existing instanceof ScrapeFamily) {
      if (existing.type !== spec.type || existing.spec.labelNames.join() !== spec.labelNames.join()) {
        throw new BrokerError('PLUGIN_INVALID', `metric ${spec.name} is declared twice with different types or labels`);
      }
      return existing;
    }
    if (existing !== undefined) throw new BrokerError('PLUGIN_INVALID', `metric ${spec.name} is already registered`);
    const family = new ScrapeFamily(spec, this.failed);
    this.registry.registerMetric(family as unknown as Metric);
    return family;
  }

  /** The histogram of this name, created on first use. */
  histogram(spec: HistogramSpec): LatencyHistogram {
    const existing = this.registry.getSingleMetric(spec.name) as unknown;
    if (existing instanceof LatencyHistogram) return existing;
    if (existing !== undefined) throw new BrokerError('PLUGIN_INVALID', `metric ${spec.name} is already registered`);
    const histogram = new LatencyHistogram(spec);
    this.registry.registerMetric(histogram as unknown as Metric);
    return histogram;
  }

  /** Adds prom-client's process and runtime families (RSS, CPU, event-loop lag, GC, heap) as `wharf_process_*`, `wharf_nodejs_*`; once. */
  enableProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry, prefix: 'wharf_' });
  }

  /** The exposition text (Prometheus 0.0.4). */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private readonly failed = (err: unknown, family: string): void => {
    this.logger.error({ err, family }, 'a metrics contributor failed; its series are missing from this scrape');
  };
}
