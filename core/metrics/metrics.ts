import fs from 'node:fs';
import path from 'node:path';
import { inject, injectable } from 'inversify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { BrokerError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { TOKENS } from '../tokens.ts';
import { ExpositionWriter } from './exposition.ts';
import { LatencyHistogram, type HistogramSpec } from './latency-histogram.ts';
import { ScrapeFamily, type FamilySpec } from './scrape-family.ts';

/** Wharf's version, from the nearest package.json above this module (the sources' or, compiled, dist/'s parent). */
export const WHARF_VERSION: string = packageVersion(import.meta.dirname);

function packageVersion(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
    if (dir === path.dirname(dir)) return 'unknown';
  }
}

/**
 * The broker's metrics. Protocol plugins and core services add families computed at scrape time from
 * state they keep anyway (`family`) and latency histograms observed without label lookups (`histogram`),
 * whose text Wharf writes itself (prom-client's formatting costs too much at 10,000 partitions), or any
 * prom-client metric of their own (`registry`), which prom-client writes after them, with its process
 * and runtime families. Each broker has its own, so several brokers can share a process.
 */
@injectable()
export class Metrics {
  readonly registry = new Registry();
  private readonly own = new Map<string, ScrapeFamily | LatencyHistogram>();
  private processMetrics = false;
  private static readonly SLICE_MS = 5;
  /** The writer between scrapes, keeping its buffer; a scrape while another one is being written makes its own. */
  private idleWriter: ExpositionWriter | undefined = new ExpositionWriter();

  constructor(@inject(TOKENS.Logger) private readonly logger: Logger) {}

  /** The family of this name, created on first use; a second spec that differs is an error. */
  family(spec: FamilySpec): ScrapeFamily {
    const existing = this.own.get(spec.name);
    if (existing instanceof ScrapeFamily) {
      if (existing.type !== spec.type || existing.spec.labelNames.join() !== spec.labelNames.join()) {
        throw new BrokerError('PLUGIN_INVALID', `metric ${spec.name} is declared twice with different types or labels`);
      }
      return existing;
    }
    this.checkFree(spec.name, existing);
    const family = new ScrapeFamily(spec, this.failed);
    this.own.set(spec.name, family);
    return family;
  }

  /** The histogram of this name, created on first use. */
  histogram(spec: HistogramSpec): LatencyHistogram {
    const existing = this.own.get(spec.name);
    if (existing instanceof LatencyHistogram) return existing;
    this.checkFree(spec.name, existing);
    const histogram = new LatencyHistogram(spec);
    this.own.set(spec.name, histogram);
    return histogram;
  }

  /** Adds prom-client's process and runtime families (RSS, CPU, event-loop lag, GC, heap) as `wharf_process_*`, `wharf_nodejs_*`; once. */
  enableProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry, prefix: 'wharf_' });
  }

  /** The exposition (Prometheus 0.0.4 text): Wharf's families, then prom-client's. */
  async scrape(): Promise<Buffer> {
    return Buffer.concat(await this.scrapeChunks());
  }

  /**
   * The exposition as chunks to send in order (see ExpositionWriter): the lines of blocks unchanged since
   * the last scrape are their kept buffers, not copies. The chunks are the caller's to keep as long as it
   * needs (a slow reader's answer is not touched by later scrapes). Written a few families at a time:
   * between slices of SLICE_MS the event loop serves clients, so a large scrape never holds producers
   * back for all of its time.
   */
  async scrapeChunks(): Promise<Buffer[]> {
    const out = this.idleWriter ?? new ExpositionWriter();
    this.idleWriter = undefined;
    try {
      let sliceStart = performance.now();
      for (const family of this.own.values()) {
        family.writeTo(out);
        if (performance.now() - sliceStart >= Metrics.SLICE_MS) {
          await new Promise(setImmediate);
          sliceStart = performance.now();
        }
      }
      out.write(await this.registry.metrics());
      return out.chunks();
    } finally {
      out.reset();
      this.idleWriter = out;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private checkFree(name: string, existing: unknown): void {
    if (existing !== undefined || this.registry.getSingleMetric(name) !== undefined) throw new BrokerError('PLUGIN_INVALID', `metric ${name} is already registered`);
  }

  private readonly failed = (err: unknown, family: string): void => {
    this.logger.error({ err, family }, 'a metrics contributor failed; its series are missing from this scrape');
  };
}
