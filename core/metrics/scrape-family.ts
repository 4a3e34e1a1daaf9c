import { familyHeader, labelText, type ExpositionWriter } from './exposition.ts';
import type { ChangeMark } from './change-mark.ts';
import { LabelSet } from './label-set.ts';
import type { SeriesBlock } from './series-block.ts';

/** Label values of one series; a label left out is absent from the series. */
export type Labels = Readonly<Record<string, string | number>>;

/**
 * Reports one series' value at scrape time. Labels a contributor emits every scrape are best passed as
 * a `LabelSet` kept with the object they name (see `LabelCache`): its line is then copied, not formatted.
 */
export interface Emit {
  (value: number, labels?: Labels | LabelSet): void;
  /**
   * Reports a group of series at once: `values[i]` with `labels[i]` for i < count (NaN: no series), read
   * into a reused array; when they equal the block's last scrape, its kept lines are sent again.
   */
  block(block: SeriesBlock, values: Float64Array, labels: readonly LabelSet[], count: number): void;
  /**
   * Writes the block's kept lines again when none of `marks` (the state its values are read from) was
   * touched since they were rendered, and returns true; false when its values must be read and passed
   * to `block`.
   */
  cached(block: SeriesBlock, ...marks: ReadonlyArray<ChangeMark | undefined>): boolean;
  /** The scrape being written (a number no other scrape has): state several families read can be read once per scrape. */
  readonly scrape: number;
}

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

const NO_LABELS = new Uint8Array(0);

/**
 * A metric family computed when it is scraped: each contributor (a protocol plugin, a core service)
 * emits its series. Nothing is counted on a hot path here: contributors read counters and gauges they
 * keep anyway. Its text is written by the broker's Metrics, beside prom-client's own families.
 */
export class ScrapeFamily {
  private readonly contributors = new Set<Contributor>();
  private readonly header: Buffer;
  private readonly nameBytes: Buffer;

  constructor(
    readonly spec: FamilySpec,
    /** A contributor that throws loses its series for this scrape; the others are still answered. */
    private readonly failed: (err: unknown, family: string) => void,
  ) {
    this.header = Buffer.from(familyHeader(spec.name, spec.help, spec.type));
    this.nameBytes = Buffer.from(spec.name);
  }

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
    const nameBytes = this.nameBytes;
    out.copy(this.header);
    const emit: Emit = Object.assign(
      (value: number, labels?: Labels | LabelSet) => {
        if (labels instanceof LabelSet) out.sample(nameBytes, labels.bytes, value);
        else out.sample(nameBytes, labels === undefined ? NO_LABELS : Buffer.from(labelText(labels)), value);
      },
      {
        block(block: SeriesBlock, values: Float64Array, labels: readonly LabelSet[], count: number) {
          if (block.unchanged(values, labels, count)) return out.writeKept(block.written);
          const start = out.mark();
          for (let i = 0; i < count; i++) {
            const value = values[i]!;
            if (value === value) out.sample(nameBytes, labels[i]!.bytes, value);
          }
          block.keep(values, labels, count, out.keepSince(start));
        },
        cached(block: SeriesBlock, ...marks: ReadonlyArray<ChangeMark | undefined>) {
          if (!block.isCurrent(...marks)) return false;
          out.writeKept(block.written);
          return true;
        },
        scrape: out.scrape,
      },
    );
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
