import { familyHeader, sampleLine, type ExpositionWriter } from './exposition.ts';

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

const NO_LABELS: Labels = Object.freeze({});

/**
 * A metric family computed when it is scraped: each contributor (a protocol plugin, a core service)
 * emits its series. Nothing is counted on a hot path here: contributors read counters and gauges they
 * keep anyway. Its text is written by the broker's Metrics, beside prom-client's own families.
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

  /** Adds a contributor; returns the function that removes it (a stopping plugin calls it). */
  contribute(contributor: Contributor): () => void {
    this.contributors.add(contributor);
    return () => this.contributors.delete(contributor);
  }

  get contributorCount(): number {
    return this.contributors.size;
  }

  /** Writes the family's header and every series its contributors emit now; a contributor that throws loses its series. */
  writeTo(out: ExpositionWriter): void {
    const { name } = this.spec;
    out.write(familyHeader(name, this.spec.help, this.spec.type));
    const emit: Emit = (value, labels = NO_LABELS) => out.write(sampleLine(name, labels, value));
    for (const contributor of this.contributors) {
      const mark = out.mark();
      try {
        contributor(emit);
      } catch (err) {
        out.truncate(mark);
        this.failed(err, name);
      }
    }
  }
}
