import { forEachRecord, type RecordHeader } from '../../../core/index.ts';
import type { FieldTable, FieldValue } from '../codec/index.ts';

/** The header a publisher sets to give a message its filter value (RabbitMQ 3.13's x-stream-filter-value). */
const FILTER_VALUE_HEADER = 'x-stream-filter-value';

/** A stream consumer's filter, as RabbitMQ 3.13's filter_spec: the values it wants, and whether messages without one match too. */
export interface StreamFilter {
  readonly values: ReadonlySet<string>;
  readonly matchUnfiltered: boolean;
}

const longString = (v: FieldValue): string | undefined => (v.type === 'S' ? v.value.toString('utf8') : undefined);

/**
 * basic.consume's `x-stream-filter` (a string, or an array whose strings count) and `x-stream-match-unfiltered`
 * (a bool, false by default); undefined without a filter, as RabbitMQ ignores other types.
 */
export function streamFilterOf(args: FieldTable): StreamFilter | undefined {
  const filter = args.get('x-stream-filter');
  if (filter === undefined) return undefined;
  let values: string[];
  if (filter.type === 'A') values = filter.value.map(longString).filter((v): v is string => v !== undefined);
  else if (filter.type === 'S') values = [longString(filter)!];
  else return undefined;
  const unfiltered = args.get('x-stream-match-unfiltered');
  return { values: new Set(values), matchUnfiltered: unfiltered?.type === 't' && unfiltered.value };
}

/**
 * Whether the batch at `pos` (osiris: a chunk) holds a message the filter wants: one whose filter value it
 * lists, or one without a filter value when it matches unfiltered. A matching batch is delivered whole, as
 * RabbitMQ delivers a chunk whose Bloom filter matches: consumers filter its messages on their side.
 */
export function batchMatches(buf: Buffer, pos: number, filter: StreamFilter): boolean {
  let matched = false;
  forEachRecord(buf, pos, (_offset, _timestamp, _key, _value, headers: RecordHeader[]) => {
    if (matched) return;
    const value = headers.find((h) => h.key === FILTER_VALUE_HEADER)?.value;
    matched = value === undefined || value === null ? filter.matchUnfiltered : filter.values.has(value.toString('utf8'));
  });
  return matched;
}
