/** Label values of one series; a label left out is absent from the series. */
export type Labels = Readonly<Record<string, string | number>>;

/** Reports one series' value at scrape time. */
export type Emit = (value: number, labels?: Labels) => void;

/** Fills a family at scrape time from state that already exists (queue depth, log offsets, counters kept by a plugin). */
export type Contributor = (emit: Emit) => void;

export type FamilyType = 'counter' | 'gauge' | 'untyped';

export interface FamilySpec {
  readonly name: string;
  readonly help: string;
  readonly type: FamilyType;
  /** The labels its series may carry, for documentation and checks; order is the exposition order. */
  readonly labelNames: readonly string[];
}

interface Series {
  value: number;
  labels: Labels;
}

const NO_LABELS: Labels = Object.freeze({});

/**
 * A metric family computed when it is scraped: each contributor (a protocol plugin, a core service)
 * emits its series. Nothing is counted on a hot path here: contributors read counters and gauges they
 * keep anyway. It speaks prom-client's metric interface, so it lives in the one prom-client registry.
 */
export class ScrapeFamily {
  private readonly contributors = new Set<Contributor>();

  constructor(
    readonly spec: FamilySpec,
    /** A contributor that throws loses its series for this scrape; the others are still answered. */
    private readonly failed: (err: unknown, family: string) => void,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get help(): string {
    return this.spec.help;
  }

  get type(): FamilyType {
    return this.spec.type;
  }

  readonly aggregator = 'sum';

  /** Adds a contributor; returns the function that removes it (a stopping plugin calls it). */
  contribute(contributor: Contributor): () => void {
    this.contributors.add(contributor);
    return () => this.contributors.delete(contributor);
  }

  get contributorCount(): number {
    return this.contributors.size;
  }

  /** prom-client calls this on every scrape. */
  get(): { name: string; help: string; type: FamilyType; aggregator: 'sum'; values: Series[] } {
    const values: Series[] = [];
    const emit: Emit = (value, labels = NO_LABELS) => {
      values.push({ value, labels });
    };
    for (const contributor of this.contributors) {
      try {
        contributor(emit);
      } catch (err) {
        this.failed(err, this.spec.name);
      }
    }
    return { name: this.spec.name, help: this.spec.help, type: this.spec.type, aggregator: 'sum', values };
  }

  reset(): void {}
}
